"""The limits on symbolic work, declared once and named in the messages that enforce them.

sympy does exactly what it is asked, however long it takes: it differentiates
``exp(exp(exp(exp(exp(x)))))`` at a data point ``x = 1`` by evaluating a tower
of exponentials to ever higher precision (it never finishes), expands
``(a + b + c + z)**1000`` term by term, and builds Jacobians with ``n**2``
entries of size ``n``. These limits refuse such input before the work starts,
with one line that names the limit; each is far above what the catalogue and
realistic custom games use (the catalogue's largest is given with each).

References
----------
.. [1] Meurer et al. (2017). SymPy: symbolic computing in Python. PeerJ
   Computer Science 3:e103 (automatic evaluation of constants with ``evalf``).
"""

from __future__ import annotations

import sys

__all__ = ["MAX_DEPTH", "MAX_EXPONENT", "MAX_FLOAT", "MAX_FUNCTION_NESTING", "MAX_LENGTH",
           "MAX_NODES", "MAX_PARAMETERS"]

#: Longest expression text, in characters.
MAX_LENGTH = 2000

#: Deepest nesting of parentheses, calls, powers and signs in expression text.
MAX_DEPTH = 100

#: Most nodes (symbols, numbers, operations) in one parsed expression.
MAX_NODES = 1000

#: Largest numerator and denominator of a numeric power of a non-number
#: (``theta**100`` and ``theta**(1/100)`` pass; ``theta**99999`` and twenty
#: nested square roots, ``theta**(1/1048576)``, do not). Catalogue: 2.
MAX_EXPONENT = 100

#: Deepest nesting of transcendental functions (exp, log, sin, cos, tanh,
#: softplus, sigmoid, log_sigmoid), roots and powers with a symbolic exponent
#: (``theta**theta``) in one expression. Catalogue: 2 (a logit inside a softplus).
MAX_FUNCTION_NESTING = 4

#: Largest magnitude of any constant, and of every expression at a data or
#: latent point: a double-precision number. sympy evaluates constants exactly,
#: so ``exp(exp(10))`` (about 10**9565) or ``10**400`` would be carried into every
#: derivative, and ``exp(exp(exp(10)))`` never finishes.
MAX_FLOAT = sys.float_info.max

#: Most players' parameters of a game (generator and discriminator together);
#: catalogue: 5. Derivation time grows with the cube of their number (a Jacobian of
#: ``n**2`` entries, each a sum over ``n`` parameters). With shared pieces
#: differentiated once (``derivation/differentiate.py``), the gradients, Jacobian
#: and Hessians of a dense 32-parameter polynomial game take about a second
#: (``benchmarks/bench_derive.py``); the compiled numeric functions and the
#: printed matrices then dominate, so the limit stays where it was.
MAX_PARAMETERS = 32
