"""Runs: the run spec and building and running it."""
