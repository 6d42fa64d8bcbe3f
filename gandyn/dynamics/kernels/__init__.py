"""A compiled backend: the derived expressions and the update rule fused into one numba loop.

For each game, loss, regularizers and rule, :mod:`~gandyn.dynamics.kernels.source`
writes one loop over the runs and steps of a batch (common subexpressions
eliminated, the logged losses computed in the same loop on the recording grid),
numba compiles it, and both the generated module and the machine code are
cached on disk (:mod:`~gandyn.dynamics.kernels.build`).
:func:`~gandyn.dynamics.kernels.simulate.simulate_with_backend` chooses between
it and the numpy path. numba is an optional extra (``pip install
'gandyn[fast]'``); this package imports it only when a kernel is built.

References
----------
.. [1] Lam, Pitrou and Seibert (2015). Numba: a LLVM-based Python JIT
   compiler. LLVM-HPC workshop.
"""

from gandyn.dynamics.kernels.simulate import (
    AUTO_MIN_RUN_STEPS,
    BACKENDS,
    check_backend,
    simulate_with_backend,
)

__all__ = ["AUTO_MIN_RUN_STEPS", "BACKENDS", "check_backend", "simulate_with_backend"]
