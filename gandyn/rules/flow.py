"""The continuous gradient flow as a method beside the discrete rules: its declared settings.

The flow ``dx/dt = F(x)`` (on the generator's clock, with ``lr_d / lr_g`` on
the discriminator's coordinates) is integrated by
:func:`gandyn.dynamics.flow.simulate_flow`, not iterated; this entry declares its
settings so that the registry lists every method with its settings in one
table. Its default horizon is that of the discrete rule it stands beside:
``t_end = steps * lr_g``, where step ``k`` of a rule sits at ``t = k * lr_g``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from gandyn.rules.base import Setting
from gandyn.rules.names import FLOW

__all__ = ["GradientFlow"]


class GradientFlow:
    """The gradient flow's entry in the method table (see :mod:`gandyn.rules.registry`)."""

    name: ClassVar[str] = FLOW
    title: ClassVar[str] = "continuous gradient flow"
    reference: ClassVar[str] = ("Mescheder, Nowozin and Geiger (2017), The Numerics of GANs, "
                                "NeurIPS, Sec. 2 (the flow the rules discretize)")
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("method", "RK45",
                "scipy solve_ivp method (RK45, DOP853, Radau, BDF, LSODA), or rk4 (fixed steps)",
                str),
        Setting("rtol", 1e-8, "relative tolerance of the integrator"),
        Setting("atol", 1e-10, "absolute tolerance of the integrator"),
        Setting("t_end", None, "final time (default: steps x lr_g, the discrete rule's horizon)"),
        Setting("n_eval", 201, "recorded times, uniform on [0, t_end]", int),
        Setting("step_size", 0.01, "rk4: the fixed step, shortened to fit a whole number of "
                "steps between recorded times"),
    )

    @classmethod
    def resolve(cls, settings: Mapping[str, Any], *, steps: int, lr_g: float) -> dict[str, Any]:
        """Every setting, given or default, converted; ``t_end`` defaults to ``steps * lr_g``.

        Raises
        ------
        ValueError
            A setting the flow does not declare.
        """
        known = [s.name for s in cls.settings]
        for key in settings:
            if key not in known:
                raise ValueError(f"does not take {key!r} (it takes {', '.join(known)})")
        values: dict[str, Any] = {}
        for setting in cls.settings:
            value = settings.get(setting.name, setting.default)
            if setting.name == "t_end" and value is None:
                value = steps * lr_g
            values[setting.name] = setting.convert(value)
        return values
