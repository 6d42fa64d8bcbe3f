"""Regularizers: gradient penalties, consensus and instance noise.

A regularizer acts at one of four stages of building a game
(:func:`gandyn.games.game.make_game`):

``model``
    changes the samples before a loss is applied (instance noise convolves
    the data and the generator's distribution with a Gaussian);
``penalty``
    adds a term to the discriminator's cost computed from the model
    (R1, R2, WGAN-GP, DRAGAN);
``player``
    adds a term to one player's cost computed from the costs so far: the
    Nagarajan-Kolter penalty on the generator, anchors (weight decay) on
    either player's parameters;
``field``
    adds a term to both players' costs computed from the game's gradient
    (consensus), after every other regularizer.

Every hyper-parameter is a symbol named ``<param>_<tag>`` (``gamma_r1``,
``sigma_noise``) so that several regularizers can be combined; integer
options such as a quadrature order are structural and not symbolic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import sympy as sp

from gandyn.games.registry import Registry
from gandyn.symbolic.expectations import (
    AUTO_ORDER,
    DEFAULT_QUADRATURE_ORDER,
    Distribution,
    Normal,
    Uniform,
    collapse_normals,
    expect,
)
from gandyn.symbolic.model import GanModel, Parameter, real_symbol

__all__ = [
    "REGULARIZERS",
    "AppliedRegularizer",
    "Regularizer",
    "get_regularizer",
]

Stage = Literal["model", "penalty", "player", "field"]


@dataclass(frozen=True)
class HyperParameter:
    """A symbolic hyper-parameter of a regularizer, with its default value."""

    name: str
    default: float
    doc: str


@dataclass(frozen=True)
class IntegerOption:
    """A structural integer option (not symbolic), such as a quadrature order.

    An option named ``order`` also takes ``auto``: the order is then chosen
    with the game's (see :func:`gandyn.games.game.make_game`).
    """

    name: str
    default: int
    doc: str
    minimum: int = 1


@dataclass(frozen=True)
class Regularizer:
    """A catalogue entry: what the regularizer is and how it changes a game."""

    name: str
    aliases: tuple[str, ...]
    title: str
    tag: str
    stage: Stage
    needs_model: bool
    reference: str
    hyper_parameters: tuple[HyperParameter, ...]
    options: tuple[IntegerOption, ...] = ()
    formula: str = ""

    def symbol(self, param: str) -> sp.Symbol:
        """The sympy symbol of hyper-parameter ``param``."""
        return real_symbol(f"{param}_{self.tag}")


@dataclass(frozen=True)
class AppliedRegularizer:
    """A regularizer with chosen values for its hyper-parameters and options."""

    regularizer: Regularizer
    values: tuple[tuple[str, float], ...]
    options: tuple[tuple[str, int], ...] = field(default=())

    @property
    def name(self) -> str:
        """The regularizer's canonical name."""
        return self.regularizer.name

    def symbol(self, param: str) -> sp.Symbol:
        """The symbol of hyper-parameter ``param``."""
        return self.regularizer.symbol(param)

    def option(self, name: str) -> int:
        """The value of integer option ``name``."""
        return dict(self.options)[name]

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """The hyper-parameters as game :class:`~gandyn.symbolic.model.Parameter` objects."""
        docs = {h.name: h.doc for h in self.regularizer.hyper_parameters}
        return tuple(
            Parameter(self.symbol(name), value, f"{self.name}: {docs[name]}")
            for name, value in self.values
        )

    def describe(self) -> str:
        """The command-line spelling, such as ``r1:gamma=0.3``."""
        items = [f"{k}={v:g}" for k, v in self.values] + [
            f"{k}={'auto' if k == 'order' and v == AUTO_ORDER else v}" for k, v in self.options]
        return f"{self.name}:{','.join(items)}" if items else self.name

    # --- the four stages --------------------------------------------------------------------

    def transform_model(self, model: GanModel) -> GanModel:
        """Stage ``model``: return the changed model."""
        if self.name == "instance-noise":
            sigma = self.symbol("sigma")
            order = self.option("order")
            eps_real, eps_fake = real_symbol("epsilon_real"), real_symbol("epsilon_fake")
            taken = {v.name for v, _ in model.random}
            if eps_real.name in taken or eps_fake.name in taken:
                raise ValueError("instance-noise applied twice")
            noise = Normal(sp.S.Zero, sp.S.One, order)
            return model.with_noise(
                sigma * eps_real, sigma * eps_fake, ((eps_real, noise), (eps_fake, noise))
            )
        raise AssertionError(f"{self.name} has no model stage")

    def penalty(self, model: GanModel) -> sp.Expr:
        """Stage ``penalty``: the term added to the discriminator's cost."""
        gamma = self.symbol("gamma")
        if self.name == "r1":
            grad = model.input_gradient_at(model.real_sample)
            return gamma / 2 * model.expect(grad**2)
        if self.name == "r2":
            grad = model.input_gradient_at(model.fake_sample)
            return gamma / 2 * model.expect(grad**2)
        if self.name == "wgan-gp":
            target = self.symbol("target")
            mix = real_symbol("epsilon_gp")
            point = mix * model.real_sample + (1 - mix) * model.fake_sample
            variables = {**model.variables, mix: Uniform(sp.S.Zero, sp.S.One, self.option("order"))}
            point, variables = collapse_normals(point, variables, "u_gp")
            variables = self._own_order(variables)
            # One-dimensional data: the gradient's norm is its absolute value.
            # (|g| - t)**2 is written g**2 - 2 t |g| + t**2: after expansion sympy
            # no longer sees that Abs(g)**2 = g**2, and E[g**2] must stay exact.
            grad = model.input_gradient_at(point)
            integrand = sp.expand(grad**2) - 2 * target * sp.Abs(grad) + target**2
            return gamma * expect(integrand, variables)
        if self.name == "dragan":
            target, sigma = self.symbol("target"), self.symbol("sigma")
            shift = real_symbol("epsilon_dragan")
            noise = Normal(sp.S.Zero, sp.S.One, self.option("order"))
            point = model.real_sample + sigma * shift
            variables = {**model.variables, shift: noise}
            point, variables = collapse_normals(point, variables, "u_dragan")
            variables = self._own_order(variables)
            grad = model.input_gradient_at(point)
            integrand = sp.expand(grad**2) - 2 * target * sp.Abs(grad) + target**2
            return gamma * expect(integrand, variables)
        raise AssertionError(f"{self.name} has no penalty stage")

    def _own_order(self, variables: dict[sp.Symbol, Distribution]) -> dict[sp.Symbol, Distribution]:
        """The penalty's rules at the regularizer's order, where the game's are left open.

        The penalty's integrand has a kink (``|grad|``), where no Gauss rule
        converges fast: ``order=auto`` would end at its largest order, with a
        nested rule of ``order**2`` nodes; the regularizer's own order decides.
        """
        order = self.option("order")
        if order == AUTO_ORDER:
            return variables
        return {v: replace(d, order=order) if isinstance(d, Normal | Uniform)
                and d.order == AUTO_ORDER else d for v, d in variables.items()}

    def player_penalty(
        self, theta: tuple[sp.Symbol, ...], psi: tuple[sp.Symbol, ...],
        cost_g: sp.Expr, cost_d: sp.Expr,
    ) -> tuple[sp.Expr, sp.Expr]:
        """Stage ``player``: the terms added to the generator's and the discriminator's cost."""
        if self.name == "nagarajan-kolter":
            # eta |grad_psi V|^2 with V the discriminator's objective, V = -cost_d.
            eta = self.symbol("eta")
            return eta * sp.Add(*(sp.diff(cost_d, p) ** 2 for p in psi)), sp.S.Zero
        if self.name == "anchor-g":
            gamma = self.symbol("gamma")
            return gamma / 2 * sp.Add(*(t**2 for t in theta)), sp.S.Zero
        if self.name == "anchor-d":
            gamma = self.symbol("gamma")
            return sp.S.Zero, gamma / 2 * sp.Add(*(p**2 for p in psi))
        raise AssertionError(f"{self.name} has no player stage")

    def field_penalty(
        self, theta: tuple[sp.Symbol, ...], psi: tuple[sp.Symbol, ...],
        cost_g: sp.Expr, cost_d: sp.Expr,
    ) -> sp.Expr:
        """Stage ``field``: the term added to *both* players' costs."""
        if self.name == "consensus":
            gamma = self.symbol("gamma")
            xi = [sp.diff(cost_g, t) for t in theta] + [sp.diff(cost_d, p) for p in psi]
            return gamma / 2 * sp.Add(*(g**2 for g in xi))
        raise AssertionError(f"{self.name} has no field stage")


REGULARIZERS: Registry[Regularizer] = Registry("regularizer")

REGULARIZERS.add(
    Regularizer(
        name="r1",
        aliases=(),
        title="R1 zero-centred gradient penalty on data",
        tag="r1",
        stage="penalty",
        needs_model=True,
        reference=(
            "Mescheder, Geiger and Nowozin (2018), Which Training Methods for GANs do "
            "actually Converge?, ICML, eq. (9)"
        ),
        hyper_parameters=(HyperParameter("gamma", 1.0, "penalty weight"),),
        formula="cost_d += gamma/2 * E_x[(d s/dx (x))**2]",
    )
)
REGULARIZERS.add(
    Regularizer(
        name="r2",
        aliases=(),
        title="R2 zero-centred gradient penalty on generated samples",
        tag="r2",
        stage="penalty",
        needs_model=True,
        reference=(
            "Mescheder, Geiger and Nowozin (2018), Which Training Methods for GANs do "
            "actually Converge?, ICML, eq. (10)"
        ),
        hyper_parameters=(HyperParameter("gamma", 1.0, "penalty weight"),),
        formula="cost_d += gamma/2 * E_z[(d s/dx (G(z)))**2]",
    )
)
REGULARIZERS.add(
    Regularizer(
        name="wgan-gp",
        aliases=("gp", "gradient-penalty"),
        title="WGAN-GP gradient penalty on interpolates",
        tag="gp",
        stage="penalty",
        needs_model=True,
        reference=(
            "Gulrajani et al. (2017), Improved Training of Wasserstein GANs, NeurIPS, eq. (3)"
        ),
        hyper_parameters=(
            HyperParameter("gamma", 10.0, "penalty weight (lambda in the paper)"),
            HyperParameter("target", 1.0, "target gradient norm"),
        ),
        options=(
            IntegerOption(
                "order", DEFAULT_QUADRATURE_ORDER, "Gauss-Legendre order over the mixing weight"
            ),
        ),
        formula=(
            "cost_d += gamma * E[(|d s/dx (e x + (1-e) G(z))| - target)**2], e ~ U(0, 1)"
        ),
    )
)
REGULARIZERS.add(
    Regularizer(
        name="dragan",
        aliases=(),
        title="DRAGAN gradient penalty around the data",
        tag="dragan",
        stage="penalty",
        needs_model=True,
        reference=(
            "Kodali, Abernethy, Hays and Kira (2017), On Convergence and Stability of GANs, "
            "arXiv:1705.07215, Sec. 4 (the penalty on perturbed real samples)"
        ),
        hyper_parameters=(
            HyperParameter("gamma", 10.0, "penalty weight (lambda in the paper)"),
            HyperParameter("target", 1.0, "target gradient norm (k in the paper)"),
            HyperParameter("sigma", 0.5, "standard deviation of the perturbation of data"),
        ),
        options=(
            IntegerOption(
                "order", DEFAULT_QUADRATURE_ORDER, "Gauss-Hermite order over the perturbation"
            ),
        ),
        formula="cost_d += gamma * E[(|d s/dx (x + sigma e)| - target)**2], e ~ N(0, 1)",
    )
)
REGULARIZERS.add(
    Regularizer(
        name="consensus",
        aliases=("co",),
        title="consensus optimization",
        tag="cons",
        stage="field",
        needs_model=False,
        reference=(
            "Mescheder, Nowozin and Geiger (2017), The Numerics of GANs, NeurIPS, "
            "Sec. 3 (L = |v|**2 / 2 added to both objectives)"
        ),
        hyper_parameters=(HyperParameter("gamma", 1.0, "weight of |xi|**2 / 2"),),
        formula="cost_g += gamma/2 |xi|**2 and cost_d += gamma/2 |xi|**2",
    )
)
REGULARIZERS.add(
    Regularizer(
        name="nagarajan-kolter",
        aliases=("nk", "gradient-norm-g"),
        title="Nagarajan-Kolter penalty: the discriminator's gradient norm in G's cost",
        tag="nk",
        stage="player",
        needs_model=False,
        reference=(
            "Nagarajan and Kolter (2017), Gradient descent GAN optimization is locally "
            "stable, NeurIPS, Sec. 5 (G descends V + eta |grad_psi V|**2)"
        ),
        hyper_parameters=(HyperParameter("eta", 0.5, "weight of |grad_psi cost_d|**2"),),
        formula="cost_g += eta * |d cost_d / d psi|**2",
    )
)
REGULARIZERS.add(
    Regularizer(
        name="anchor-g",
        aliases=("weight-decay-g",),
        title="anchor (weight decay) on the generator's parameters",
        tag="ag",
        stage="player",
        needs_model=False,
        reference=(
            "Krogh and Hertz (1992), A Simple Weight Decay Can Improve Generalization, "
            "NeurIPS (the penalty gamma/2 |w|**2)"
        ),
        hyper_parameters=(HyperParameter("gamma", 0.1, "weight of |theta|**2 / 2"),),
        formula="cost_g += gamma/2 * |theta|**2",
    )
)
REGULARIZERS.add(
    Regularizer(
        name="anchor-d",
        aliases=("weight-decay-d",),
        title="anchor (weight decay) on the discriminator's parameters",
        tag="ad",
        stage="player",
        needs_model=False,
        reference=(
            "Krogh and Hertz (1992), A Simple Weight Decay Can Improve Generalization, "
            "NeurIPS (the penalty gamma/2 |w|**2)"
        ),
        hyper_parameters=(HyperParameter("gamma", 0.1, "weight of |psi|**2 / 2"),),
        formula="cost_d += gamma/2 * |psi|**2",
    )
)
REGULARIZERS.add(
    Regularizer(
        name="instance-noise",
        aliases=("noise",),
        title="instance noise (Gaussian smoothing of data and samples)",
        tag="noise",
        stage="model",
        needs_model=True,
        reference=(
            "Sønderby et al. (2017), Amortised MAP Inference for Image Super-resolution, "
            "ICLR, Sec. 3.3; Arjovsky and Bottou (2017), Towards Principled Methods for "
            "Training GANs, ICLR, Sec. 3"
        ),
        hyper_parameters=(HyperParameter("sigma", 0.1, "noise standard deviation"),),
        options=(
            IntegerOption(
                "order", DEFAULT_QUADRATURE_ORDER, "Gauss-Hermite order over the noise"
            ),
        ),
        formula="x -> x + sigma*e, G(z) -> G(z) + sigma*e', e, e' ~ N(0, 1)",
    )
)


def get_regularizer(name: str) -> Regularizer:
    """Return the regularizer called ``name`` (aliases accepted)."""
    return REGULARIZERS.get(name)


def apply_values(
    regularizer: Regularizer, values: Mapping[str, str | float]
) -> AppliedRegularizer:
    """Bind hyper-parameter and option ``values`` (strings from the command line accepted).

    Raises
    ------
    gandyn.errors.SpecError
        For an unknown key, a non-numeric value or an invalid integer option.
    """
    from gandyn.errors import SpecError

    hyper = {h.name: h for h in regularizer.hyper_parameters}
    opts = {o.name: o for o in regularizer.options}
    known = sorted([*hyper, *opts])
    chosen_h = {name: h.default for name, h in hyper.items()}
    chosen_o = {name: o.default for name, o in opts.items()}
    for key, raw in values.items():
        if key in hyper:
            try:
                chosen_h[key] = float(raw)
            except ValueError:
                raise SpecError(
                    f"regularizer {regularizer.name!r}: {key} must be a number, not {raw!r}"
                ) from None
            if not sp.Float(chosen_h[key]).is_finite:
                raise SpecError(f"regularizer {regularizer.name!r}: {key} must be finite")
        elif key in opts and key == "order" and str(raw) == "auto":
            chosen_o[key] = AUTO_ORDER  # chosen with the game's (make_game's quad_tol)
        elif key in opts:
            try:
                value = int(str(raw))
            except ValueError:
                raise SpecError(
                    f"regularizer {regularizer.name!r}: {key} must be an integer, not {raw!r}"
                ) from None
            if value < opts[key].minimum:
                raise SpecError(
                    f"regularizer {regularizer.name!r}: {key} must be at least {opts[key].minimum}"
                )
            chosen_o[key] = value
        else:
            hint = f" (it takes {', '.join(known)})" if known else " (it takes no parameters)"
            raise SpecError(f"regularizer {regularizer.name!r} has no parameter {key!r}{hint}")
    return AppliedRegularizer(
        regularizer, tuple(chosen_h.items()), tuple(chosen_o.items())
    )
