"""The methods a run can use: the flow and the discrete update rules, with their settings.

Every part of :mod:`gandyn.run` (and the commands above it) reads the rule
names and settings from here, so that a registry of rules can replace these two
tables in one place. Free of numpy: the command line offers the names without
importing it.
"""

from __future__ import annotations

__all__ = ["METHODS", "RULE_SETTINGS", "UPDATE_RULES"]

#: The discrete update rules of :mod:`gandyn.rules.update_rules`, in the order help texts list them.
UPDATE_RULES: tuple[str, ...] = ("simgd", "altgd", "momentum", "altmomentum", "adam", "ogda",
                                 "extragradient", "sga")

#: The settings each method accepts (command-line spelling -> keyword).
RULE_SETTINGS: dict[str, tuple[str, ...]] = {
    "simgd": (),
    "altgd": ("first", "d_steps", "g_steps"),
    "momentum": ("beta",),
    "altmomentum": ("beta", "first"),
    "adam": ("beta1", "beta2", "eps"),
    "ogda": (),
    "extragradient": (),
    "sga": ("lam",),
    "flow": ("method", "rtol", "atol", "t_end", "n_eval"),
}

#: Every method a run can use: the continuous flow, then the discrete rules.
METHODS: tuple[str, ...] = ("flow", *UPDATE_RULES)
