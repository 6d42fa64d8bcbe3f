"""The names the explore page offers, without importing numpy or sympy (for ``--help``)."""

from __future__ import annotations

from gandyn.rules.names import METHOD_NAMES

__all__ = ["MAX_PAGE_STEPS", "PAGE_RULES"]

#: The methods the page runs: the flow (RK4) and every discrete rule of gandyn's registry
#: (the page prints the derivatives the opponent-aware rules and SGA need).
PAGE_RULES: tuple[str, ...] = METHOD_NAMES
#: The most steps the page computes at once (every control change recomputes the run).
MAX_PAGE_STEPS = 100_000
