"""Derivation: the only place that differentiates (field, Jacobian, Hessians, stationary points)."""
