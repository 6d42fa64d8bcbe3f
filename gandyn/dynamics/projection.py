"""Weight clipping as a projection the step loop applies after every step: :class:`WeightClip`.

The Wasserstein GAN keeps its critic Lipschitz by clipping the critic's
weights to a box ``[-c, c]`` after each update (Arjovsky, Chintala and Bottou
2017, Algorithm 1, line 7). Here the critic's weights are the discriminator's
coordinates ``psi`` of the state. :class:`WeightClip` is a callable for the
``project`` argument of :func:`gandyn.dynamics.discrete.simulate_rule` that
also says what it does (its bound and the coordinates it clips), so that the
compiled backend (:mod:`gandyn.dynamics.kernels`) can repeat it inside its loop
instead of handing the run to numpy.

References
----------
.. [1] Arjovsky, Chintala and Bottou (2017). Wasserstein Generative Adversarial
   Networks. ICML, Algorithm 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gandyn.arrays import Array

__all__ = ["WeightClip"]


@dataclass(frozen=True)
class WeightClip:
    """Clip the coordinates from ``n_theta`` on (the discriminator's) to ``[-bound, bound]``.

    Attributes
    ----------
    bound
        The clipping bound ``c > 0``.
    n_theta
        The number of generator coordinates, which are left alone.
    """

    bound: float
    n_theta: int

    def __post_init__(self) -> None:
        if not (np.isfinite(self.bound) and self.bound > 0):
            raise ValueError(f"the clipping bound must be positive and finite, not {self.bound!r}")

    def __call__(self, x: Array) -> Array:
        """The states ``x`` ``(B, n)`` with the discriminator's coordinates clipped (a copy)."""
        clipped = np.array(x, dtype=np.float64)
        bound = float(self.bound)
        clipped[:, self.n_theta:] = np.clip(clipped[:, self.n_theta:], -bound, bound)
        return clipped
