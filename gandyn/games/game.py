"""The game catalogue and the assembled :class:`Game`.

A catalogue entry is a factory that returns a :class:`GameDefinition`: the
players' parameters, the hyper-parameters with their values, and either a
:class:`~gandyn.symbolic.model.GanModel` (samples and discriminator, to be combined with
a loss) or the two costs directly (the bilinear game). :func:`make_game`
combines a definition with a loss and regularizers into a :class:`Game`,
whose costs and logged losses are sympy expressions in the parameters and
the hyper-parameters. Differentiation happens in :mod:`gandyn.derivation.field`.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import sympy as sp

from gandyn.errors import GandynWarning, SpecError, UnknownNameError
from gandyn.games.losses import FAKE_LOGIT, REAL_LOGIT, Loss, get_loss
from gandyn.games.registry import Registry
from gandyn.games.regularizers import AppliedRegularizer, apply_values, get_regularizer
from gandyn.limits import MAX_QUADRATURE_ORDER
from gandyn.symbolic.expectations import (
    AUTO_ORDER,
    DEFAULT_QUADRATURE_TOLERANCE,
    Normal,
    OrderChoice,
    choose_order,
    open_orders,
    point_masses,
    with_order,
)
from gandyn.symbolic.model import GanModel, Parameter, real_symbol
from gandyn.symbolic.printing import latex

__all__ = [
    "GAMES",
    "LOGGED_TERMS",
    "Game",
    "GameDefinition",
    "GameEntry",
    "GameOption",
    "get_game",
    "make_game",
]

#: The losses a training loop logs, in the order gandyn reports them:
#: the discriminator's loss on data and on samples, the generator's loss, and
#: the mean discriminator output on data and on samples.
LOGGED_TERMS = ("d_real", "d_fake", "g_loss", "d_x", "d_gz")

DEFAULT_LOSS = "minimax"


@dataclass(frozen=True)
class GameDefinition:
    """What a catalogue factory returns: a game before a loss is applied.

    Exactly one of ``model`` and ``direct_costs`` is set.
    """

    name: str
    title: str
    reference: str
    theta: tuple[sp.Symbol, ...]
    psi: tuple[sp.Symbol, ...]
    params: tuple[Parameter, ...]
    model: GanModel | None = None
    direct_costs: tuple[sp.Expr, sp.Expr] | None = None
    symbol_docs: tuple[tuple[str, str], ...] = ()
    #: Terms added to the generator's and the discriminator's cost after the loss (a game
    #: file's ``penalty`` keys): anchors, penalties in the players' parameters.
    cost_terms: tuple[sp.Expr, sp.Expr] = (sp.S.Zero, sp.S.Zero)
    options: tuple[tuple[str, int | str | float], ...] = ()
    start: tuple[tuple[str, float], ...] = ()
    #: States (over ``start``) at which an open quadrature order is checked besides the
    #: start, by state symbol name; values may be expressions in the hyper-parameters.
    probes: tuple[tuple[tuple[str, sp.Expr], ...], ...] = ()
    #: The tolerance an open quadrature order meets (the ``tol`` option of a game).
    quad_tol: float = DEFAULT_QUADRATURE_TOLERANCE


@dataclass(frozen=True)
class GameOption:
    """A structural option of a catalogue game (an integer or a choice)."""

    name: str
    default: int | str | float
    doc: str
    choices: tuple[str, ...] = ()
    minimum: int = 1
    maximum: int | None = None
    #: Words accepted besides an integer (``auto`` for a quadrature order).
    words: tuple[str, ...] = ()
    #: A positive real number instead of an integer (a tolerance).
    real: bool = False

    def parse(self, game: str, raw: str | int | float) -> int | str | float:
        """Validate a value given on the command line."""
        if str(raw) in self.words:
            return str(raw)
        if self.real:
            try:
                number = float(str(raw))
            except ValueError:
                number = math.nan
            if not (math.isfinite(number) and number > 0):
                raise SpecError(f"game {game!r}: option {self.name} must be a positive "
                                f"number, not {raw!r}")
            return number
        if self.choices:
            if str(raw) not in self.choices:
                raise SpecError(
                    f"game {game!r}: option {self.name} must be one of "
                    f"{', '.join(self.choices)}, not {raw!r}"
                )
            return str(raw)
        try:
            value = int(str(raw))
        except ValueError:
            either = "".join(f" or {w}" for w in self.words)
            raise SpecError(
                f"game {game!r}: option {self.name} must be an integer{either}, not {raw!r}"
            ) from None
        if value < self.minimum:
            raise SpecError(f"game {game!r}: option {self.name} must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise SpecError(f"game {game!r}: option {self.name} must be at most {self.maximum}")
        return value


@dataclass(frozen=True)
class GameEntry:
    """A catalogue entry: names, documentation, options and the factory."""

    name: str
    aliases: tuple[str, ...]
    title: str
    reference: str
    summary: str
    factory: Callable[..., GameDefinition]
    options: tuple[GameOption, ...] = ()

    def define(self, options: Mapping[str, str | int | float] | None = None) -> GameDefinition:
        """Call the factory with validated ``options``."""
        known = {o.name: o for o in self.options}
        chosen: dict[str, int | str | float] = {o.name: o.default for o in self.options}
        for key, raw in (options or {}).items():
            if key not in known:
                takes = ", ".join(known) if known else "no options"
                raise SpecError(f"game {self.name!r} has no option {key!r} (it takes {takes})")
            chosen[key] = known[key].parse(self.name, raw)
        return self.factory(**chosen)


@dataclass(frozen=True)
class Game:
    """A game ready to differentiate: symbolic costs and logged losses.

    Attributes
    ----------
    name
        The catalogue name (or the custom game's name).
    theta, psi
        Generator and discriminator parameters; the state is ``(theta, psi)``.
    cost_g, cost_d
        The costs the generator and the discriminator *minimize*.
    logged
        ``(name, expression)`` pairs for :data:`LOGGED_TERMS` the game has.
    params
        Hyper-parameters (symbolic in the expressions) with their values.
    loss
        The loss applied, or ``None`` for games with direct costs.
    regularizers
        The regularizers applied, in the order they were applied.
    definition
        The definition the game was built from.
    log_loss
        The loss whose terms are logged, when it is not ``loss`` (``None``: ``loss``).
    quadrature
        How the order of the quadratures left open (``order=auto``) was chosen;
        ``None`` when every order was given.
    """

    name: str
    theta: tuple[sp.Symbol, ...]
    psi: tuple[sp.Symbol, ...]
    cost_g: sp.Expr
    cost_d: sp.Expr
    logged: tuple[tuple[str, sp.Expr], ...]
    params: tuple[Parameter, ...]
    loss: Loss | None
    regularizers: tuple[AppliedRegularizer, ...]
    definition: GameDefinition = field(compare=False)
    log_loss: Loss | None = None
    quadrature: OrderChoice | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        # The costs can run to pages (quadrature sums): name the game, not its expressions.
        regs = ", ".join(r.name for r in self.regularizers)
        params = ", ".join(f"{p.name}={p.value:g}" for p in self.params)
        loss = self.loss.name if self.loss is not None else None
        return (f"Game({self.name!r}, loss={loss!r}, regularizers=[{regs}], "
                f"theta=({', '.join(s.name for s in self.theta)}), "
                f"psi=({', '.join(s.name for s in self.psi)}), params=[{params}])")

    def _repr_latex_(self) -> str:
        """Both players' costs, as a notebook shows them."""
        return ("$\\begin{aligned}\\mathcal{L}_G &= " + latex(self.cost_g)
                + r" \\ \mathcal{L}_D &= " + latex(self.cost_d) + "\\end{aligned}$")

    @property
    def state_symbols(self) -> tuple[sp.Symbol, ...]:
        """``theta`` then ``psi``: the order of every state vector."""
        return self.theta + self.psi

    @property
    def default_start(self) -> dict[str, float]:
        """The documented starting state (1.0 for any parameter the game leaves open)."""
        start = dict(self.definition.start)
        return {s.name: float(start.get(s.name, 1.0)) for s in self.state_symbols}

    @property
    def param_values(self) -> dict[sp.Symbol, float]:
        """Hyper-parameter symbol -> value."""
        return {p.symbol: p.value for p in self.params}

    @property
    def zero_sum(self) -> bool:
        """Whether the game is zero-sum up to terms a player does not control.

        True when ``cost_d + cost_g = h(psi) + k(theta)``: a function of
        ``psi`` alone does not change G's problem, nor one of ``theta`` alone
        D's, so the game is strategically the zero-sum game with value
        ``cost_d - k(theta)`` (minimax: ``cost_d + cost_g = E[d_real]``, which
        depends on ``psi``). Checked on the expanded sum: no term may depend
        on both players' parameters.
        """
        total = sp.expand(self.cost_d + self.cost_g)
        return not any(
            t.has(*self.theta) and t.has(*self.psi) for t in sp.Add.make_args(total)
        )

    def with_params(self, values: Mapping[str, float]) -> Game:
        """A copy with hyper-parameter values replaced (by symbol name)."""
        by_name = {p.name: p for p in self.params}
        for key in values:
            if key not in by_name:
                raise UnknownNameError(f"parameter of game {self.name!r}", key, by_name)
        params = tuple(
            replace(p, value=float(values[p.name])) if p.name in values else p
            for p in self.params
        )
        return replace(self, params=params)


GAMES: Registry[GameEntry] = Registry("game")


# --- catalogue ---------------------------------------------------------------------------------

_MESCHEDER_2018 = (
    "Mescheder, Geiger and Nowozin (2018), Which Training Methods for GANs do actually "
    "Converge?, ICML, Sec. 2.2 (Dirac-GAN)"
)


def _dirac() -> GameDefinition:
    theta, psi = real_symbol("theta"), real_symbol("psi")
    x, x_data, c = real_symbol("x"), real_symbol("x_data"), real_symbol("c")
    model = GanModel(
        theta=(theta,),
        psi=(psi,),
        x=x,
        logit=psi * x,
        real_sample=x_data,
        fake_sample=theta,
        random=((x_data, point_masses([c])),),
    )
    return GameDefinition(
        name="dirac",
        title="Dirac-GAN",
        reference=_MESCHEDER_2018,
        theta=(theta,),
        psi=(psi,),
        params=(Parameter(c, 0.0, "location of the data's point mass"),),
        model=model,
        symbol_docs=(
            ("theta", "generator: a point mass at theta"),
            ("psi", "discriminator: logit s(x) = psi * x"),
            ("c", "data: a point mass at c"),
        ),
        # Mescheder et al.'s notebook starts the Dirac-GAN at (1, 1).
        start=(("theta", 1.0), ("psi", 1.0)),
    )


def _bilinear() -> GameDefinition:
    theta, psi = real_symbol("theta"), real_symbol("psi")
    a, b = real_symbol("a"), real_symbol("b")
    cost_g = theta * psi + a * theta**2 / 2
    cost_d = -theta * psi + b * psi**2 / 2
    return GameDefinition(
        name="bilinear",
        title="bilinear game",
        reference=(
            "Gidel et al. (2019), Negative Momentum for Improved Game Dynamics, AISTATS, "
            "Sec. 5; Daskalakis et al. (2018), Training GANs with Optimism, ICLR, Sec. 3"
        ),
        theta=(theta,),
        psi=(psi,),
        params=(
            Parameter(a, 0.0, "generator's own quadratic cost a*theta**2/2"),
            Parameter(b, 0.0, "discriminator's own quadratic cost b*psi**2/2"),
        ),
        direct_costs=(cost_g, cost_d),
        start=(("theta", 1.0), ("psi", 1.0)),
        symbol_docs=(
            ("theta", "generator; cost theta*psi + a*theta**2/2"),
            ("psi", "discriminator; cost -theta*psi + b*psi**2/2"),
            ("a, b", "each player's own quadratic cost (a = b = 0: zero-sum, a pure rotation)"),
        ),
    )


def _optimal_logit(mu: sp.Expr, sigma: sp.Expr, mean: float, std: float
                   ) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """``(psi_0, psi_1, psi_2)`` of ``log(p_data / p_g)`` for two normals.

    ``p_data = N(mu, sigma**2)``, ``p_g = N(mean, std**2)``.

    The logit of the optimal discriminator of the minimax game (Goodfellow et
    al. 2014, Prop. 1): ``D* = p_data / (p_data + p_g)`` has logit
    ``log p_data - log p_g``, a quadratic in ``x`` for two normals.
    """
    m, s = sp.Float(mean), sp.Float(std)
    return (-mu**2 / (2 * sigma**2) + m**2 / (2 * s**2) + sp.log(s / sigma),
            mu / sigma**2 - m / s**2,
            -1 / (2 * sigma**2) + 1 / (2 * s**2))


def _gaussian(order: int | str = "auto",
              tol: float = DEFAULT_QUADRATURE_TOLERANCE) -> GameDefinition:
    rule_order = AUTO_ORDER if order == "auto" else int(order)
    theta_mu, theta_sigma = real_symbol("theta_mu"), real_symbol("theta_sigma")
    psi = (real_symbol("psi_0"), real_symbol("psi_1"), real_symbol("psi_2"))
    x, x_data, z = real_symbol("x"), real_symbol("x_data"), real_symbol("z")
    mu, sigma = real_symbol("mu"), real_symbol("sigma")
    model = GanModel(
        theta=(theta_mu, theta_sigma),
        psi=psi,
        x=x,
        logit=psi[0] + psi[1] * x + psi[2] * x**2,
        real_sample=x_data,
        fake_sample=theta_mu + theta_sigma * z,
        random=((x_data, Normal(mu, sigma, rule_order)),
                (z, Normal(sp.S.Zero, sp.S.One, rule_order))),
    )
    start = (("theta_mu", 1.0), ("theta_sigma", 1.5), ("psi_0", 0.0), ("psi_1", 0.0),
             ("psi_2", 0.0))
    # The order is checked at the start, at the equilibrium and at the optimal discriminator
    # against the starting generator (where 12 nodes are off by 1e-4 in the gradient).
    equilibrium = (("theta_mu", mu), ("theta_sigma", sigma),
                   *((p.name, sp.S.Zero) for p in psi))
    best = tuple((p.name, v) for p, v in zip(psi, _optimal_logit(mu, sigma, 1.0, 1.5),
                                               strict=True))
    return GameDefinition(
        name="gaussian",
        title="1-D Gaussian GAN with a quadratic discriminator",
        reference=(
            "Goodfellow et al. (2014), Generative Adversarial Nets, NeurIPS, Fig. 1 (1-D "
            "Gaussian data); Nagarajan and Kolter (2017), Gradient descent GAN optimization "
            "is locally stable, NeurIPS, Sec. 6 (linear-quadratic GAN)"
        ),
        theta=(theta_mu, theta_sigma),
        psi=psi,
        params=(
            Parameter(mu, 0.0, "mean of the data"),
            Parameter(sigma, 1.0, "standard deviation of the data"),
        ),
        model=model,
        symbol_docs=(
            ("theta_mu, theta_sigma", "generator G(z) = theta_mu + theta_sigma * z, z ~ N(0, 1)"),
            ("psi_0, psi_1, psi_2", "discriminator logit s(x) = psi_0 + psi_1 x + psi_2 x**2"),
            ("mu, sigma", "data x ~ N(mu, sigma**2)"),
        ),
        # The tolerance only where it acts: a given order reads as before.
        options=(("order", order), ("tol", tol)) if order == "auto" else (("order", order),),
        # A generator too far right and too wide, a discriminator that cannot yet tell.
        start=start,
        probes=(equilibrium, best),
        quad_tol=float(tol),
    )


_TWO_POINT_LOGITS = ("linear", "affine", "quadratic")


def _two_point(logit: str = "linear") -> GameDefinition:
    theta = real_symbol("theta")
    x, x_data, a = real_symbol("x"), real_symbol("x_data"), real_symbol("a")
    if logit == "linear":
        psi: tuple[sp.Symbol, ...] = (real_symbol("psi"),)
        s = psi[0] * x
    elif logit == "affine":
        psi = (real_symbol("psi_0"), real_symbol("psi_1"))
        s = psi[0] + psi[1] * x
    else:
        psi = (real_symbol("psi_0"), real_symbol("psi_1"), real_symbol("psi_2"))
        s = psi[0] + psi[1] * x + psi[2] * x**2
    model = GanModel(
        theta=(theta,),
        psi=psi,
        x=x,
        logit=s,
        real_sample=x_data,
        fake_sample=theta,
        random=((x_data, point_masses([-a, a])),),
    )
    return GameDefinition(
        name="two-point",
        title="two-point data, one-point generator",
        reference=(
            "Arora et al. (2017), Generalization and Equilibrium in GANs, ICML, Sec. 4 "
            "(a generator that cannot represent the data); Farnia and Ozdaglar (2020), "
            "Do GANs always have Nash equilibria?, ICML"
        ),
        theta=(theta,),
        psi=psi,
        params=(Parameter(a, 1.0, "data: half the mass at -a, half at +a"),),
        model=model,
        symbol_docs=(
            ("theta", "generator: a point mass at theta (cannot match two points)"),
            (", ".join(str(p) for p in psi), f"discriminator logit s(x) = {s}"),
            ("a", "data: points -a and +a with probability 1/2 each"),
        ),
        options=(("logit", logit),),
        start=(("theta", 0.5), *((p.name, 0.5 if p.name == "psi" else 0.0) for p in psi)),
    )


GAMES.add(
    GameEntry(
        name="dirac",
        aliases=("dirac-gan",),
        title="Dirac-GAN",
        reference=_MESCHEDER_2018,
        summary="data a point mass at c, generator a point mass at theta, logit psi*x",
        factory=_dirac,
    )
)
GAMES.add(
    GameEntry(
        name="bilinear",
        aliases=(),
        title="bilinear game",
        reference=_bilinear().reference,
        summary="cost_g = theta*psi + a theta^2/2, cost_d = -theta*psi + b psi^2/2",
        factory=_bilinear,
    )
)
GAMES.add(
    GameEntry(
        name="gaussian",
        aliases=("gauss", "1d-gaussian"),
        title="1-D Gaussian GAN",
        reference=_gaussian(2).reference,
        summary=(
            "data N(mu, sigma^2), G(z) = theta_mu + theta_sigma z, "
            "logit psi_0 + psi_1 x + psi_2 x^2"
        ),
        factory=_gaussian,
        options=(
            GameOption(
                "order",
                "auto",
                "Gauss-Hermite order for expectations with no closed form; auto: the "
                "smallest that meets tol",
                maximum=MAX_QUADRATURE_ORDER,
                words=("auto",),
            ),
            GameOption(
                "tol",
                DEFAULT_QUADRATURE_TOLERANCE,
                "tolerance of order=auto: largest change of costs and gradients from n to 2n "
                "nodes",
                real=True,
            ),
        ),
    )
)
GAMES.add(
    GameEntry(
        name="two-point",
        aliases=("twopoint",),
        title="two-point data",
        reference=_two_point().reference,
        summary="data at -a and +a, generator a point mass at theta",
        factory=_two_point,
        options=(
            GameOption(
                "logit",
                "linear",
                "discriminator: linear psi*x, affine psi_0+psi_1 x, or quadratic",
                choices=_TWO_POINT_LOGITS,
            ),
        ),
    )
)


_HSIEH_2019 = (
    "Hsieh, Liu and Cevher (2019), Finding Mixed Nash Equilibria of Generative Adversarial "
    "Networks, ICML, Sec. 1-2 (pure equilibria need not exist; mixed ones do)"
)


def _hide_and_seek() -> GameDefinition:
    """Hide and seek: ``cost_g = (theta - psi)**2``, ``cost_d = -(theta - psi)**2``.

    The seeker G wants to stand where the hider D is; D wants to be as far
    from G as it can. The game is meant on the box ``[-1, 1]**2`` (any bounded
    box; unbounded, D's cost has no minimum at all). It has no pure Nash
    equilibrium there: G's only best response to ``psi`` is ``theta = psi``,
    where D's cost is 0, while D could reach ``-(theta - psi)**2 <= -1`` by
    moving to the box end farther from ``theta``. Hence
    ``min_theta max_psi (theta - psi)**2 = 1 > 0 = max_psi min_theta (theta - psi)**2``.
    The mixed equilibrium (Glicksberg 1952 gives existence; the payoff is
    convex in ``theta``, so G has a pure optimal strategy) is: G plays
    ``theta = 0``, D plays ``psi = -1`` and ``+1`` with probability 1/2 each,
    value 1 for D's payoff ``(theta - psi)**2``.

    References
    ----------
    Hsieh, Liu and Cevher (2019), ICML; Glicksberg (1952), Proc. AMS 3(1), 170-174.
    """
    theta, psi = real_symbol("theta"), real_symbol("psi")
    cost_g = (theta - psi) ** 2
    return GameDefinition(
        name="hide-and-seek",
        title="hide and seek (no pure Nash equilibrium on a box)",
        reference=_HSIEH_2019 + "; Glicksberg (1952), Proc. AMS 3(1), 170-174",
        theta=(theta,),
        psi=(psi,),
        params=(),
        direct_costs=(cost_g, -cost_g),
        symbol_docs=(
            ("theta", "generator (seeker); cost (theta - psi)**2, meant on [-1, 1]"),
            ("psi", "discriminator (hider); cost -(theta - psi)**2, meant on [-1, 1]"),
        ),
        start=(("theta", 0.5), ("psi", -0.5)),
    )


def _two_point_bump() -> GameDefinition:
    """Two-point data, a point-mass generator, a Gaussian-bump discriminator.

    Data ``x = -a`` or ``+a`` (probability 1/2 each), ``G = theta`` (a point
    mass: it cannot represent the data) and the logit
    ``s(x) = exp(-(x - psi)**2 / (2 w**2))``: D says "real" near ``psi``.
    With any loss whose ``g_loss`` decreases and ``d_fake`` increases
    strictly in the fake logit (minimax, non-saturating, Wasserstein), there
    is no pure Nash equilibrium on a box ``theta, psi in [-P, P]`` with
    ``P >= a``:

    * G's only best response to ``psi`` is ``theta = psi`` (the top of the bump);
    * at ``theta = psi != 0``, D does strictly better at ``-psi``: the data
      term is the same by symmetry, the fake logit drops from 1 to
      ``exp(-2 psi**2 / w**2) < 1``;
    * at ``theta = psi = 0`` (Wasserstein), D does better at ``psi = a``:
      with ``u = exp(-a**2 / (2 w**2)) < 1`` its payoff rises by
      ``(u**4 - 4 u + 3) / 2 = (1 - u)**2 (u**2 + 2 u + 3) / 2 > 0``
      (for the minimax loss, checked numerically at the defaults).

    The game is zero-sum up to a term of ``psi`` alone (``E[d_real]``), so
    a mixed equilibrium exists (Glicksberg 1952) and
    :func:`gandyn.equilibria.grid_nash.mixed_equilibrium` finds it on a grid.

    References
    ----------
    Farnia and Ozdaglar (2020), ICML; Arora et al. (2017), ICML, Sec. 4;
    Hsieh, Liu and Cevher (2019), ICML.
    """
    theta, psi = real_symbol("theta"), real_symbol("psi")
    x, x_data = real_symbol("x"), real_symbol("x_data")
    a, w = real_symbol("a"), real_symbol("w")
    model = GanModel(
        theta=(theta,),
        psi=(psi,),
        x=x,
        logit=sp.exp(-((x - psi) ** 2) / (2 * w**2)),
        real_sample=x_data,
        fake_sample=theta,
        random=((x_data, point_masses([-a, a])),),
    )
    return GameDefinition(
        name="two-point-bump",
        title="two-point data, Gaussian-bump discriminator (no pure Nash equilibrium)",
        reference=(
            "Farnia and Ozdaglar (2020), Do GANs always have Nash equilibria?, ICML; "
            "Arora et al. (2017), Generalization and Equilibrium in GANs, ICML, Sec. 4; "
            + _HSIEH_2019
        ),
        theta=(theta,),
        psi=(psi,),
        params=(
            Parameter(a, 1.0, "data: half the mass at -a, half at +a"),
            Parameter(w, 1.0, "width of the discriminator's bump"),
        ),
        model=model,
        symbol_docs=(
            ("theta", "generator: a point mass at theta (cannot match two points)"),
            ("psi", "discriminator: centre of the bump, logit exp(-(x - psi)**2 / (2 w**2))"),
            ("a", "data: points -a and +a with probability 1/2 each"),
            ("w", "width of the bump"),
        ),
        start=(("theta", 0.5), ("psi", 1.0)),
    )


GAMES.add(
    GameEntry(
        name="hide-and-seek",
        aliases=("hide-seek",),
        title="hide and seek",
        reference=_hide_and_seek().reference,
        summary="cost_g = (theta - psi)^2 = -cost_d on [-1, 1]^2: no pure Nash equilibrium",
        factory=_hide_and_seek,
    )
)
GAMES.add(
    GameEntry(
        name="two-point-bump",
        aliases=("bump",),
        title="two-point data, bump discriminator",
        reference=_two_point_bump().reference,
        summary=(
            "data at -a and +a, generator a point mass at theta, "
            "logit exp(-(x - psi)^2 / (2 w^2)): no pure Nash equilibrium"
        ),
        factory=_two_point_bump,
    )
)


def get_game(name: str) -> GameEntry:
    """Return the catalogue entry called ``name`` (aliases accepted)."""
    return GAMES.get(name)


# --- assembly ------------------------------------------------------------------------------------


def per_sample_logged(model: GanModel, loss: Loss) -> tuple[tuple[str, sp.Expr], ...]:
    """:data:`LOGGED_TERMS` of one sample (pair), before any expectation is taken."""
    subs = {REAL_LOGIT: model.real_logit, FAKE_LOGIT: model.fake_logit}
    terms = {
        "d_real": loss.d_real,
        "d_fake": loss.d_fake,
        "g_loss": loss.g_loss,
        "d_x": loss.output_of(REAL_LOGIT),
        "d_gz": loss.output_of(FAKE_LOGIT),
    }
    return tuple((name, terms[name].xreplace(subs)) for name in LOGGED_TERMS)


def _logged_from_loss(model: GanModel, loss: Loss) -> tuple[tuple[str, sp.Expr], ...]:
    return tuple((name, model.expect(expr)) for name, expr in per_sample_logged(model, loss))


def _applied(
    regularizer: AppliedRegularizer | str | tuple[str, Mapping[str, float]],
) -> AppliedRegularizer:
    """A regularizer given by name, or by name and values, bound to its values."""
    if isinstance(regularizer, str):
        return apply_values(get_regularizer(regularizer), {})
    if isinstance(regularizer, tuple):
        name, values = regularizer
        return apply_values(get_regularizer(name), dict(values))
    return regularizer


def make_game(
    game: str | GameDefinition,
    loss: str | Loss | None = None,
    regularizers: Sequence[AppliedRegularizer | str | tuple[str, Mapping[str, float]]] = (),
    options: Mapping[str, str | int | float] | None = None,
    params: Mapping[str, float] | None = None,
    log_loss: str | Loss | None = None,
    quad_tol: float | None = None,
) -> Game:
    """Build a :class:`Game` from a catalogue name (or a definition), a loss and regularizers.

    Parameters
    ----------
    game
        A catalogue name such as ``"dirac"`` or a :class:`GameDefinition`
        (from :func:`gandyn.games.files.load_game_file`, say).
    loss
        A loss name or :class:`~gandyn.games.losses.Loss`; ``None`` means
        ``minimax`` for games with a discriminator. Games with direct costs
        (``bilinear``) take no loss.
    regularizers
        Applied in order, except that ``model``-stage regularizers (instance
        noise) act before the loss and ``field``-stage ones (consensus) last.
        Each is a catalogue name (``"r1"``), a name with its values
        (``("r1", {"gamma": 0.3})``) or an applied regularizer.
    options
        Structural options of a catalogue game (``order``, ``logit``).
    params
        Hyper-parameter values by symbol name (``c``, ``gamma_r1``).
    log_loss
        Log the terms of this loss (``d_real``, ``d_fake``, ``g_loss``) while
        the costs come from ``loss``: books train with one generator loss and
        plot another (the minimax dynamics logged as the non-saturating
        ``g_loss``). ``None``: the training loss is logged.
    quad_tol
        Tolerance of the quadratures whose order is left open (``order=auto``):
        :func:`gandyn.symbolic.expectations.choose_order` picks the smallest order whose
        costs, gradients and logged losses change by at most this much from ``n``
        to ``2 n`` nodes at the game's start and its ``probes``, for the
        hyper-parameter values given here. ``None``: the game's ``tol`` option,
        else :data:`~gandyn.symbolic.expectations.DEFAULT_QUADRATURE_TOLERANCE`.

    Returns
    -------
    Game
        Costs and logged losses as sympy expressions.
    """
    if isinstance(game, GameDefinition):
        if options:
            raise SpecError(f"game {game.name!r} takes no options")
        definition = game
    else:
        definition = get_game(game).define(options)

    applied = [_applied(r) for r in regularizers]
    names = [r.name for r in applied]
    for name in set(names):
        if names.count(name) > 1:
            raise SpecError(f"regularizer {name!r} given more than once")

    applied_loss: Loss | None
    shown_loss: Loss | None = None
    if definition.model is None:
        if log_loss is not None:
            raise SpecError(f"game {definition.name!r} defines its costs directly; "
                            "there is no loss to log")
        if loss is not None:
            loss_name = loss.name if isinstance(loss, Loss) else loss
            raise SpecError(
                f"game {definition.name!r} defines its costs directly; "
                f"a loss ({loss_name!r}) does not apply"
            )
        needing = [r.name for r in applied if r.regularizer.needs_model]
        if needing:
            raise SpecError(
                f"regularizer {needing[0]!r} needs a discriminator on data; "
                f"game {definition.name!r} has none"
            )
        assert definition.direct_costs is not None
        cost_g, cost_d = definition.direct_costs
        logged: tuple[tuple[str, sp.Expr], ...] = (
            ("d_real", sp.S.Zero),
            ("d_fake", cost_d),
            ("g_loss", cost_g),
        )
        applied_loss = None
    else:
        applied_loss = loss if isinstance(loss, Loss) else get_loss(loss or DEFAULT_LOSS)
        model = definition.model
        for reg in applied:
            if reg.regularizer.stage == "model":
                model = reg.transform_model(model)
        logged = _logged_from_loss(model, applied_loss)
        by_name = dict(logged)
        cost_d = by_name["d_real"] + by_name["d_fake"]
        cost_g = by_name["g_loss"]
        for reg in applied:
            if reg.regularizer.stage == "penalty":
                cost_d = cost_d + reg.penalty(model)
        if log_loss is not None:
            # The costs above train; the logged terms are those of another loss at the
            # same logits (same model, same noise).
            shown = log_loss if isinstance(log_loss, Loss) else get_loss(log_loss)
            logged = _logged_from_loss(model, shown)
            shown_loss = shown if shown.name != applied_loss.name else None

    theta, psi = definition.theta, definition.psi
    cost_g, cost_d = cost_g + definition.cost_terms[0], cost_d + definition.cost_terms[1]
    for reg in applied:
        if reg.regularizer.stage == "player":
            extra_g, extra_d = reg.player_penalty(theta, psi, cost_g, cost_d)
            cost_g, cost_d = cost_g + extra_g, cost_d + extra_d
    for reg in applied:
        if reg.regularizer.stage == "field":
            extra = reg.field_penalty(theta, psi, cost_g, cost_d)
            cost_g, cost_d = cost_g + extra, cost_d + extra

    all_params = definition.params + tuple(p for r in applied for p in r.parameters)
    built = Game(
        name=definition.name,
        theta=theta,
        psi=psi,
        cost_g=cost_g,
        cost_d=cost_d,
        logged=logged,
        params=all_params,
        loss=applied_loss,
        regularizers=tuple(applied),
        definition=definition,
        log_loss=shown_loss,
    )
    built = built.with_params(params) if params else built
    return _close_orders(built, definition.quad_tol if quad_tol is None else quad_tol)


def _close_orders(game: Game, tolerance: float) -> Game:
    """``game`` with every open quadrature order chosen (:func:`choose_order`), and warned
    about when the tolerance is not met by the largest order tried."""
    exprs = [game.cost_g, game.cost_d, *(e for _, e in game.logged)]
    if not any(open_orders(e) for e in exprs):
        return game
    gradients = ([sp.diff(game.cost_g, t) for t in game.theta]
                 + [sp.diff(game.cost_d, p) for p in game.psi])
    start = game.default_start
    states = [start]
    values = game.param_values
    for probe in game.definition.probes:
        state = dict(start)
        for name, value in probe:
            state[name] = float(sp.sympify(value).xreplace(
                {s: sp.Float(v) for s, v in values.items()}))
        states.append(state)
    points: dict[sp.Symbol, object] = {
        s: np.array([state[s.name] for state in states]) for s in game.state_symbols}
    points.update({s: float(v) for s, v in values.items()})
    choice = choose_order([*exprs, *gradients], points, tolerance)
    if not choice.met:
        warnings.warn(
            f"game {game.name!r}: quadrature order {choice.order} (the largest tried) changes "
            f"the costs or gradients by {choice.change:.2g}, more than `quad_tol` "
            f"{tolerance:g}; give a larger tolerance or an explicit order",
            GandynWarning, stacklevel=3)
    close = functools.partial(with_order, order=choice.order)
    return replace(game, cost_g=close(game.cost_g), cost_d=close(game.cost_d),
                   logged=tuple((n, close(e)) for n, e in game.logged), quadrature=choice)
