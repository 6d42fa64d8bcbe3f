"""The names the explore page offers, without importing numpy or sympy (for ``--help``)."""

from __future__ import annotations

__all__ = ["MAX_PAGE_STEPS", "PAGE_RULES"]

#: The methods the page runs: the flow (RK4) and every discrete rule but SGA, whose
#: adjustment needs the third derivatives of the costs.
PAGE_RULES = ("flow", "simgd", "altgd", "momentum", "altmomentum", "adam", "ogda",
              "extragradient")
#: The most steps the page computes at once (every control change recomputes the run).
MAX_PAGE_STEPS = 100_000
