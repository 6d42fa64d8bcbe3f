"""Symbolic core: activation functions, expectations, the expression parser, the GAN model."""
