"""A game's costs per sample: the terms whose minibatch means a training loop sees.

A training loop never sees the expectations that :mod:`gandyn.games.game` keeps
exact; it sees means over minibatches of per-sample terms. :func:`sample_terms`
rebuilds a game's costs and logged terms *per sample* (no expectation taken):
the discriminator's per-sample cost pairs one real sample with one fake
sample (and one interpolation weight for WGAN-GP), exactly the pairs of the
relativistic loss. :mod:`gandyn.dynamics.minibatch_field` samples them.

Consensus optimization is not the mean of a per-sample term: its regularizer
``gamma/2 |xi|**2`` is a function of the *expected* gradient ``xi``. A training
loop computes it from the minibatch's own gradient, ``gamma/2 |xi_B|**2``
(Mescheder et al.'s ``ConsensusOptimizer``: ``reg = 0.5 * sum(|g|**2)`` over the
gradients of the minibatch losses, then the gradient of ``reg``); the terms
keep its weight (:attr:`SampleTerms.consensus`) and
:class:`gandyn.dynamics.minibatch_field.MinibatchField` builds that estimate from
per-sample gradients and their Jacobians.

References
----------
.. [1] Goodfellow et al. (2014). Generative Adversarial Nets. NeurIPS,
   Algorithm 1 (minibatch stochastic gradient steps for both players).
.. [2] Mescheder, Geiger and Nowozin (2018). Which Training Methods for GANs
   do actually Converge? ICML, eq. (9)-(10) (R1 and R2 on a minibatch).
.. [3] Gulrajani et al. (2017). Improved Training of Wasserstein GANs.
   NeurIPS, Algorithm 1 (one interpolation weight per pair).
.. [4] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS,
   Algorithm 1 (consensus optimization on minibatch gradients), and their code,
   github.com/LMescheder/TheNumericsOfGANs, ``consensus_gan/optimizer.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from gandyn.errors import SpecError
from gandyn.games.game import Game, per_sample_logged
from gandyn.games.regularizers import AppliedRegularizer
from gandyn.symbolic.expectations import Distribution, Normal, Uniform
from gandyn.symbolic.model import GanModel, real_symbol

__all__ = ["DRAGAN_SHIFT", "GP_MIX", "SampleTerms", "Variables", "sample_terms"]

Variables = tuple[tuple[sp.Symbol, Distribution], ...]

#: The interpolation weight of WGAN-GP, one per (real, fake) pair.
GP_MIX = real_symbol("epsilon_gp")
#: DRAGAN's standard normal perturbation of a data sample, one per real sample.
DRAGAN_SHIFT = real_symbol("epsilon_dragan")


@dataclass(frozen=True)
class SampleTerms:
    """A game's per-sample terms: expressions in the state, the random variables and params.

    Attributes
    ----------
    theta, psi
        The players' parameters.
    params
        Hyper-parameter symbols (values: ``Game.param_values``).
    real_variables, fake_variables
        The random variables of the data sample (data, real noise) and of the
        generated sample (latent, fake noise), with their distributions.
    extra_variables
        Variables of the penalties only (WGAN-GP's mixing weight).
    logged
        ``(name, expression)`` for ``d_real, d_fake, g_loss, d_x, d_gz``, per sample.
    cost_d
        The discriminator's per-sample cost: ``d_real + d_fake`` plus the
        penalty integrands.
    cost_g
        The generator's per-sample cost (``g_loss``).
    consensus
        The weight ``gamma`` of consensus optimization's ``gamma/2 |xi|**2``
        (a hyper-parameter symbol), ``None`` without consensus.
    """

    theta: tuple[sp.Symbol, ...]
    psi: tuple[sp.Symbol, ...]
    params: tuple[sp.Symbol, ...]
    real_variables: Variables
    fake_variables: Variables
    extra_variables: Variables
    logged: tuple[tuple[str, sp.Expr], ...]
    cost_d: sp.Expr
    cost_g: sp.Expr
    consensus: sp.Symbol | None = None

    @property
    def variables(self) -> Variables:
        """All random variables, each once, in a fixed order (the order of the draws)."""
        seen: dict[sp.Symbol, Distribution] = {}
        for var, dist in self.real_variables + self.fake_variables + self.extra_variables:
            seen.setdefault(var, dist)
        return tuple(seen.items())


def _penalty_integrand(reg: AppliedRegularizer, model: GanModel) -> tuple[sp.Expr, Variables]:
    """The per-sample integrand of a ``penalty``-stage regularizer and its own variables."""
    gamma = reg.symbol("gamma")
    if reg.name == "r1":
        return gamma / 2 * model.input_gradient_at(model.real_sample) ** 2, ()
    if reg.name == "r2":
        return gamma / 2 * model.input_gradient_at(model.fake_sample) ** 2, ()
    if reg.name == "wgan-gp":
        point = GP_MIX * model.real_sample + (1 - GP_MIX) * model.fake_sample
        grad = model.input_gradient_at(point)
        integrand = gamma * (sp.Abs(grad) - reg.symbol("target")) ** 2
        return integrand, ((GP_MIX, Uniform(sp.S.Zero, sp.S.One, reg.option("order"))),)
    if reg.name == "dragan":
        point = model.real_sample + reg.symbol("sigma") * DRAGAN_SHIFT
        grad = model.input_gradient_at(point)
        integrand = gamma * (sp.Abs(grad) - reg.symbol("target")) ** 2
        return integrand, ((DRAGAN_SHIFT, Normal(sp.S.Zero, sp.S.One, reg.option("order"))),)
    raise SpecError(f"regularizer {reg.name!r} is not supported with minibatches")


def sample_terms(game: Game) -> SampleTerms:
    """Per-sample costs and logged terms of ``game`` (no expectation taken).

    The model-stage regularizers (instance noise) are applied to the model
    as :func:`gandyn.games.game.make_game` applies them; penalties contribute
    their integrands to the discriminator's per-sample cost, and a game file's
    ``penalty`` terms (functions of the parameters) to each player's.

    Raises
    ------
    gandyn.errors.SpecError
        For a game without a discriminator model (``bilinear``), a loss-less
        game, or a ``player``-stage regularizer (Nagarajan-Kolter, anchors).
        Consensus is kept as a weight (see the module's notes).
    """
    model = game.definition.model
    if model is None or game.loss is None:
        raise SpecError(
            f"game {game.name!r} has no data or generator to sample; minibatches need a GAN model"
        )
    consensus: sp.Symbol | None = None
    for reg in game.regularizers:
        if reg.name == "consensus":
            consensus = reg.symbol("gamma")
        elif reg.regularizer.stage in ("field", "player"):
            # Functions of the expected costs (their gradients), not the mean of a
            # per-sample term; an anchor could be, but keeping one rule keeps it simple.
            raise SpecError(
                f"{reg.name} is not supported with minibatches: it is computed from the "
                "expected costs, not as the mean of a per-sample term"
            )
    for reg in game.regularizers:
        if reg.regularizer.stage == "model":
            model = reg.transform_model(model)
    trained = per_sample_logged(model, game.loss)
    # The costs come from the training loss; what is logged may be another loss's terms.
    logged = trained if game.log_loss is None else per_sample_logged(model, game.log_loss)
    by_name = dict(trained)
    # A game file's ``penalty`` terms are functions of the parameters only: the mean
    # of a constant over a batch is the constant, so each sample carries it whole.
    term_g, term_d = game.definition.cost_terms
    cost_d = by_name["d_real"] + by_name["d_fake"] + term_d
    extra: Variables = ()
    for reg in game.regularizers:
        if reg.regularizer.stage == "penalty":
            integrand, own = _penalty_integrand(reg, model)
            cost_d += integrand
            extra += own
    randoms = model.random
    real_syms = model.real_sample.free_symbols
    fake_syms = model.fake_sample.free_symbols
    return SampleTerms(
        theta=game.theta,
        psi=game.psi,
        params=tuple(game.param_values),
        real_variables=tuple((v, d) for v, d in randoms if v in real_syms),
        fake_variables=tuple((v, d) for v, d in randoms if v in fake_syms),
        extra_variables=extra,
        logged=logged,
        cost_d=cost_d,
        cost_g=by_name["g_loss"] + term_g,
        consensus=consensus,
    )
