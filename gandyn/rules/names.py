"""The names of the update methods, in the order help texts list them.

Free of numpy so that the command line can offer the names (``gandyn --help``)
without importing the numeric code; :mod:`gandyn.rules.registry` checks at
import that its table has exactly these names, in this order.
"""

from __future__ import annotations

__all__ = ["FLOW", "METHOD_NAMES", "RULE_NAMES"]

#: The discrete update rules.
RULE_NAMES: tuple[str, ...] = ("simgd", "altgd", "momentum", "altmomentum", "adam", "ogda",
                               "extragradient", "sga", "proximal", "unrolled", "lola", "sos", "omd")
#: The continuous gradient flow (integrated, not iterated).
FLOW = "flow"
#: Every method a simulation can use: the flow, then the discrete rules.
METHOD_NAMES: tuple[str, ...] = (FLOW, *RULE_NAMES)
