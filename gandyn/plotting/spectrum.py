r"""Eigenvalues in the complex plane with the stability region of an update rule.

At a stationary point ``x*`` with flow Jacobian ``J = dF/dx``, the
linearized rules of :mod:`gandyn.rules` with one step size ``h`` are
polynomials in ``hJ``, so each eigenvalue ``lambda`` of ``J`` is mapped on its
own and the rule is locally stable exactly when every ``z = h lambda`` lies in
the rule's *stability region* (Mescheder, Nowozin and Geiger 2017, Sec. 3;
Gidel et al. 2019):

* ``simgd`` ``x' = x + hF``: ``|1 + z| < 1``, the disc of radius ``1/h``
  about ``-1/h`` in the ``lambda`` plane;
* ``extragradient``: ``|1 + z + z**2| < 1``;
* ``ogda`` ``x' = x + 2hF(x) - hF(x_prev)``: both roots of
  ``mu**2 - (1 + 2z) mu + z`` inside the unit circle;
* ``momentum`` (heavy ball, PyTorch's form, ``beta``): both roots of
  ``mu**2 - (1 + beta + z) mu + beta`` inside the unit circle.

The regions are not typed in here: :func:`region_radius` builds the linear
game ``F(x) = A x`` whose ``A`` (a 2 x 2 rotation-scaling) has eigenvalues
``z`` and ``conj(z)`` and asks the rule's own
:meth:`~gandyn.rules.base.UpdateRule.map_jacobian` for the spectral radius,
so the figure shows what the engine simulates; the tests compare it with the
closed forms above. With two time scales (``lr_d = r lr_g``) the map is
``I + h R J`` with ``R = diag(1, ..., r, ...)``, and the eigenvalues drawn
are those of ``R J``, against the region of ``h = lr_g``.

Alternating steps (``altgd``), Adam and SGA have no such region: the
alternating map depends on the block structure of ``J`` (which player moves
first), Adam's on its moment estimates and SGA's on the antisymmetric part of
``J``. For them :func:`eigenvalue_plane` draws the eigenvalues of the map's
Jacobian (:func:`gandyn.equilibria.map_stability`) against the unit circle
and says so on the axes.

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS,
   Sec. 3 and Lemma 4.
.. [2] Gidel et al. (2019). Negative Momentum for Improved Game Dynamics.
   AISTATS, Sec. 3-4 (the heavy-ball and alternating maps' spectra).
.. [3] Daskalakis et al. (2018). Training GANs with Optimism. ICLR; Gidel et
   al. (2019). A Variational Inequality Perspective on GANs. ICLR (OGDA and
   extragradient on bilinear games).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from matplotlib.axes import Axes

from gandyn.arrays import Array, ComplexArray
from gandyn.equilibria import map_stability
from gandyn.errors import SpecError
from gandyn.plotting.figures import zero_level_lines
from gandyn.plotting.style import PALETTE, note_fontsize
from gandyn.rules.base import FieldFunctions
from gandyn.rules.registry import RULES, make_rule
from gandyn.rules.registry import SETTING_NAMES as RULE_SETTINGS

if TYPE_CHECKING:
    from gandyn.derivation.field import VectorField

__all__ = [
    "REGION_RULES",
    "eigenvalue_plane",
    "map_eigenvalues",
    "map_radius_grid",
    "region_radius",
    "scaled_eigenvalues",
    "spectrum_data",
    "stability_map",
]


#: Rules whose linearization is a function of ``z = h lambda`` alone.
REGION_RULES: tuple[str, ...] = ("simgd", "extragradient", "ogda", "momentum")
#: Grid points per axis of the region's level set.
REGION_POINTS = 301
#: Colours: the stable region, its boundary, eigenvalues inside and outside.
REGION_FILL = "#DCEBF5"
REGION_EDGE = PALETTE["blue"]
INSIDE_COLOR = PALETTE["bluish_green"]
OUTSIDE_COLOR = PALETTE["vermillion"]
#: Where the region is first looked for, in the ``z = h lambda`` plane.
_SEARCH_WINDOW = (-6.0, 2.0, -4.0, 4.0)


def _linear_game(matrices: Array, n_theta: int) -> FieldFunctions:
    """``F(x) = A_b x`` for a batch of matrices ``A_b`` (the batch is fixed)."""
    def field(x: Array) -> Array:
        out: Array = np.einsum("bij,bj->bi", matrices, x)
        return out

    def jacobian(x: Array) -> Array:
        return matrices

    return FieldFunctions(field, jacobian, n_theta,
                          lambda x: np.zeros((*matrices.shape, matrices.shape[-1])))


def _check_rule(rule: str) -> None:
    if rule not in RULES:
        raise SpecError(f"unknown update rule {rule!r} (known: {', '.join(RULES)})")


def region_radius(rule: str, z: Any, *, settings: Mapping[str, Any] | None = None) -> Array:
    """Spectral radius of ``rule``'s linearized map at ``z = h lambda`` (stable below 1).

    Computed with the rule's own map Jacobian on the linear game whose
    Jacobian has eigenvalues ``z`` and ``conj(z)``, with ``h = 1``.

    Parameters
    ----------
    rule
        One of :data:`REGION_RULES`.
    z
        Complex values, any shape.
    settings
        The rule's settings (``beta`` for momentum).

    Returns
    -------
    ndarray
        Same shape as ``z``.
    """
    _check_rule(rule)
    if rule not in REGION_RULES:
        raise SpecError(f"rule {rule!r} has no stability region in the lambda plane "
                        f"(only {', '.join(REGION_RULES)} do)")
    zs = np.asarray(z, dtype=np.complex128)
    flat = zs.reshape(-1)
    a, b = flat.real, flat.imag
    matrices = np.stack([np.stack([a, -b], axis=-1), np.stack([b, a], axis=-1)], axis=-2)
    built = make_rule(rule, 1.0, 1.0, **dict(settings or {}))
    x0 = np.zeros((len(flat), 2))
    jac = built.map_jacobian(_linear_game(matrices, 1), x0, built.init_buffers(x0), 10**6)
    with np.errstate(all="ignore"):
        radius = np.max(np.abs(np.linalg.eigvals(jac)), axis=-1)
    result: Array = radius.reshape(zs.shape)
    return result


def _rates(n: int, n_theta: int | None, lr_g: float, lr_d: float | None) -> Array:
    ratio = 1.0 if lr_d is None else float(lr_d) / float(lr_g)
    scale = np.ones(n)
    if ratio != 1.0:
        if n_theta is None:
            raise SpecError("two time scales need n_theta (the number of generator parameters)")
        scale[n_theta:] = ratio
    return scale


def _check_jacobian(jacobian: Any) -> Array:
    jac = np.asarray(jacobian, dtype=np.float64)
    if jac.ndim != 2 or jac.shape[0] != jac.shape[1] or jac.shape[0] == 0:
        raise SpecError(f"the Jacobian must be a square matrix, got shape {jac.shape}")
    if not np.all(np.isfinite(jac)):
        raise SpecError("the Jacobian has non-finite entries")
    return jac


def scaled_eigenvalues(jacobian: Any, *, lr_g: float = 1.0, lr_d: float | None = None,
                       n_theta: int | None = None) -> ComplexArray:
    """Eigenvalues of ``R J`` with ``R = diag(1 on theta, lr_d/lr_g on psi)``, sorted.

    With equal rates these are the eigenvalues of ``J = dF/dx`` itself.
    """
    jac = _check_jacobian(jacobian)
    scaled = _rates(len(jac), n_theta, lr_g, lr_d)[:, None] * jac
    values: ComplexArray = np.sort_complex(np.linalg.eigvals(scaled).astype(np.complex128))
    return values


def map_eigenvalues(jacobian: Any, rule: str, *, lr_g: float, lr_d: float | None = None,
                    n_theta: int | None = None,
                    settings: Mapping[str, Any] | None = None) -> ComplexArray:
    """Eigenvalues of ``rule``'s map Jacobian at a stationary point with flow Jacobian ``J``.

    At a fixed point every rule's linearization depends on ``J`` alone (the
    field vanishes there, and with it SGA's third-derivative term), so the
    rule is run on the linear game ``F(x) = J x`` and linearized at 0 by
    :func:`gandyn.equilibria.map_stability`.
    """
    _check_rule(rule)
    jac = _check_jacobian(jacobian)
    n = len(jac)
    if n_theta is None:
        if RULES[rule].alternating or (lr_d is not None and lr_d != lr_g):
            raise SpecError(f"rule {rule!r} with these rates needs n_theta "
                            "(the number of generator parameters)")
        n_theta = n // 2
    if not 0 < n_theta < n:
        raise SpecError(f"n_theta must lie in 1..{n - 1}, got {n_theta}")
    built = make_rule(rule, float(lr_g), float(lr_g if lr_d is None else lr_d),
                      **dict(settings or {}))
    return map_stability(built, _linear_game(jac[None], n_theta), np.zeros(n)).eigenvalues


def _window(values: ComplexArray, extra: Sequence[tuple[float, float, float, float]],
            margin: float = 0.12) -> tuple[float, float, float, float]:
    boxes = list(extra)
    if len(values):
        boxes.append((float(values.real.min()), float(values.real.max()),
                      float(values.imag.min()), float(values.imag.max())))
    x0 = min(b[0] for b in boxes)
    x1 = max(b[1] for b in boxes)
    y0 = min(b[2] for b in boxes)
    y1 = max(b[3] for b in boxes)
    half = 0.5 * max(x1 - x0, y1 - y0, 1e-9)
    cx, cy = 0.5 * (x0 + x1), 0.5 * (y0 + y1)
    half *= 1.0 + margin
    return cx - half, cx + half, cy - half, cy + half


def _region_box(rule: str, settings: Mapping[str, Any] | None) -> tuple[float, float, float,
                                                                          float]:
    lo_x, hi_x, lo_y, hi_y = _SEARCH_WINDOW
    gx = np.linspace(lo_x, hi_x, 321)
    gy = np.linspace(lo_y, hi_y, 321)
    radius = region_radius(rule, gx[None, :] + 1j * gy[:, None], settings=settings)
    rows, cols = np.nonzero(radius < 1.0)
    if not len(rows):
        return (-1.0, 0.0, -0.5, 0.5)
    return (float(gx[cols.min()]), float(gx[cols.max()]), float(gy[rows.min()]),
            float(gy[rows.max()]))


def _mark(ax: Axes, values: ComplexArray, inside: Any, label_in: str, label_out: str) -> None:
    inside = np.asarray(inside, dtype=bool)
    if np.any(inside):
        ax.scatter(values.real[inside], values.imag[inside], s=22, marker="o",
                   facecolors=INSIDE_COLOR, edgecolors=PALETTE["black"], linewidths=0.6,
                   zorder=5, label=label_in)
    if np.any(~inside):
        ax.scatter(values.real[~inside], values.imag[~inside], s=26, marker="X",
                   facecolors=OUTSIDE_COLOR, edgecolors=PALETTE["black"], linewidths=0.5,
                   zorder=5, label=label_out)


def eigenvalue_plane(
    ax: Axes,
    jacobian: Any,
    *,
    rule: str = "simgd",
    lr_g: float = 0.1,
    lr_d: float | None = None,
    n_theta: int | None = None,
    settings: Mapping[str, Any] | None = None,
    view: Literal["auto", "flow", "map"] = "auto",
    points: int = REGION_POINTS,
    legend: bool = True,
) -> Axes:
    r"""Draw the eigenvalues at a stationary point with the rule's stability region.

    ``flow`` view: the eigenvalues ``lambda`` of ``dF/dx`` (of ``R dF/dx``
    with two time scales) in the complex plane, the region ``{lambda : the
    rule with step lr_g is stable}`` shaded with its boundary, and the flow's
    own boundary ``Re lambda = 0``. ``map`` view: the eigenvalues ``mu`` of
    the rule's map Jacobian and the unit circle. Eigenvalues inside are
    green circles, outside red crosses.

    Parameters
    ----------
    ax
        Where to draw.
    jacobian
        ``dF/dx`` at the stationary point, ``(n, n)`` (e.g.
        ``vf.jacobian_fn(x_star)``).
    rule
        An update rule of :data:`gandyn.rules.registry.RULES`.
    lr_g, lr_d
        Learning rates (``lr_d`` defaults to ``lr_g``).
    n_theta
        Generator parameters (the first ``n_theta`` coordinates); needed for
        two time scales and for alternating steps.
    settings
        The rule's settings (``beta`` for momentum, ``first`` for altgd, ...).
    view
        ``auto``: ``flow`` for the rules of :data:`REGION_RULES`, else ``map``
        with a note on the axes that the rule's region is not a function of
        ``lambda`` alone.
    points
        Grid points per axis on which the region's boundary is traced.
    legend
        Draw a legend.

    Returns
    -------
    Axes

    References
    ----------
    Mescheder, Nowozin and Geiger (2017), The Numerics of GANs, NeurIPS, Sec. 3.
    """
    _check_rule(rule)
    if view not in ("auto", "flow", "map"):
        raise SpecError(f"view must be 'auto', 'flow' or 'map', got {view!r}")
    if not (np.isfinite(lr_g) and lr_g > 0) or (lr_d is not None and not (
            np.isfinite(lr_d) and lr_d > 0)):
        raise SpecError("learning rates must be positive and finite")
    if view == "flow" and rule not in REGION_RULES:
        raise SpecError(f"rule {rule!r} has no stability region in the lambda plane; "
                        "use view='map'")
    jac = _check_jacobian(jacobian)
    if view == "map" or rule not in REGION_RULES:
        mu = map_eigenvalues(jac, rule, lr_g=lr_g, lr_d=lr_d, n_theta=n_theta,
                             settings=settings)
        angle = np.linspace(0.0, 2.0 * np.pi, 721)
        ax.fill(np.cos(angle), np.sin(angle), color=REGION_FILL, linewidth=0, zorder=0)
        ax.plot(np.cos(angle), np.sin(angle), color=REGION_EDGE, linewidth=0.9, zorder=1,
                label=r"$|\mu| = 1$")
        _mark(ax, mu, np.abs(mu) < 1.0 - 1e-12, "inside (stable)", "outside (unstable)")
        x0, x1, y0, y1 = _window(mu, [(-1.0, 1.0, -1.0, 1.0)])
        ax.set_xlabel(r"$\mathrm{Re}\,\mu$")
        ax.set_ylabel(r"$\mathrm{Im}\,\mu$")
        rates = f"$h = {lr_g:g}$" + ("" if lr_d is None or lr_d == lr_g
                                        else f", $h_D = {lr_d:g}$")
        note: str | None = f"{rule}, {rates}: the map's eigenvalues $\\mu$" + (
            "" if rule in REGION_RULES else "\n" r"(the rule has no region in the $\lambda$ plane)")
    else:
        note = None
        lam = scaled_eigenvalues(jac, lr_g=lr_g, lr_d=lr_d, n_theta=n_theta)
        zx0, zx1, zy0, zy1 = _region_box(rule, settings)
        h = float(lr_g)
        x0, x1, y0, y1 = _window(lam, [(zx0 / h, zx1 / h, zy0 / h, zy1 / h)])
        gx = np.linspace(x0, x1, int(points))
        gy = np.linspace(y0, y1, int(points))
        radius = region_radius(rule, h * (gx[None, :] + 1j * gy[:, None]), settings=settings)
        ax.contourf(gx, gy, radius, levels=[0.0, 1.0], colors=[REGION_FILL], zorder=0)
        boundary = zero_level_lines(gx, gy, radius - 1.0)
        step = f"h = {h:g}"
        ax.plot(boundary[:, 0], boundary[:, 1], color=REGION_EDGE, linewidth=0.9, zorder=1,
                label=f"{rule} stable, {step}")
        ax.axvline(0.0, color="0.45", linewidth=0.6, linestyle=":", zorder=1,
                   label=r"flow: $\mathrm{Re}\,\lambda = 0$")
        inside = region_radius(rule, h * lam, settings=settings) < 1.0 - 1e-12
        _mark(ax, lam, inside, "inside (stable)", "outside (unstable)")
        two_scales = lr_d is not None and lr_d != lr_g
        ax.set_xlabel(r"$\mathrm{Re}\,\lambda$" + (r" of $R\,\partial F/\partial x$"
                                                  if two_scales else ""))
        ax.set_ylabel(r"$\mathrm{Im}\,\lambda$")
    ax.axhline(0.0, color="0.75", linewidth=0.4, zorder=0)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    # notes go above the axes, with the legend: inside they would cover data
    if legend:
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=2, borderaxespad=0.2,
                  fontsize=note_fontsize(), title=note, title_fontsize=note_fontsize(),
                  alignment="left")
    elif note:
        ax.text(0.0, 1.02, note, transform=ax.transAxes, ha="left", va="bottom",
                fontsize=note_fontsize())
    return ax


def spectrum_data(jacobian: Any, *, rule: str = "simgd", lr_g: float = 0.1,
                  lr_d: float | None = None, n_theta: int | None = None,
                  settings: Mapping[str, Any] | None = None) -> dict[str, Array]:
    """The arrays behind :func:`eigenvalue_plane`: the Jacobian, ``lambda`` and ``mu``.

    ``jacobian``, ``lambda_real``, ``lambda_imag`` (eigenvalues of ``R J``),
    ``mu_real``, ``mu_imag`` (the map's eigenvalues) and ``spectral_radius``.
    """
    jac = _check_jacobian(jacobian)
    lam = scaled_eigenvalues(jac, lr_g=lr_g, lr_d=lr_d, n_theta=n_theta)
    mu = map_eigenvalues(jac, rule, lr_g=lr_g, lr_d=lr_d, n_theta=n_theta, settings=settings)
    return {"jacobian": jac, "lambda_real": lam.real, "lambda_imag": lam.imag,
            "mu_real": mu.real, "mu_imag": mu.imag,
            "spectral_radius": np.asarray(float(np.max(np.abs(mu))))}


# --- stability over two parameters --------------------------------------------------------------


def map_radius_grid(
    vf: VectorField,
    point: Sequence[float] | Array,
    rule: str,
    x: tuple[str, Sequence[float] | Array],
    y: tuple[str, Sequence[float] | Array],
    *,
    lr_g: float = 0.1,
    lr_d: float | None = None,
    settings: Mapping[str, Any] | None = None,
    stationary_tol: float = 1e-8,
) -> Array:
    """Spectral radius of ``rule``'s map at ``point`` over a grid of two parameters.

    Each axis is ``(name, values)``, where ``name`` is ``lr`` (both rates,
    keeping ``lr_d / lr_g``), ``lr_g``, ``lr_d``, a setting of the rule
    (``beta``) or a hyper-parameter of the game (``gamma_r1``). The point must
    stay stationary for every hyper-parameter value (else
    :class:`~gandyn.errors.SpecError`); the radius comes from
    :func:`gandyn.equilibria.map_stability`.

    Returns
    -------
    ndarray
        ``radius[i, j]`` at ``x = x_values[j]``, ``y = y_values[i]``.
    """
    _check_rule(rule)
    state = np.asarray(point, dtype=np.float64)
    game_params = {p.name for p in vf.game.params}
    base_settings = dict(settings or {})
    rate_names = {"lr", "lr_g", "lr_d"}
    for name, _ in (x, y):
        if (name not in rate_names | game_params and name not in base_settings
                and name not in RULE_SETTINGS[rule]):
            raise SpecError(f"unknown parameter {name!r} for the stability map (rates "
                            f"lr, lr_g, lr_d; the rule's settings; hyper-parameters "
                            f"{', '.join(sorted(game_params)) or 'none'})")
    xs = np.asarray(x[1], dtype=np.float64)
    ys = np.asarray(y[1], dtype=np.float64)
    n_theta = len(vf.game.theta)
    radius = np.empty((len(ys), len(xs)))
    for i, yv in enumerate(ys):
        for j, xv in enumerate(xs):
            g_rate, d_rate = float(lr_g), float(lr_g if lr_d is None else lr_d)
            params: dict[str, float] = {}
            extra = dict(base_settings)
            for name, value in ((x[0], float(xv)), (y[0], float(yv))):
                if name == "lr":
                    g_rate, d_rate = value, value * d_rate / g_rate
                elif name == "lr_g":
                    g_rate = value
                elif name == "lr_d":
                    d_rate = value
                elif name in game_params:
                    params[name] = value
                else:
                    extra[name] = value
            if params:
                moved = float(np.max(np.abs(vf.field_fn(state, params))))
                if moved > stationary_tol:
                    raise SpecError(f"the point {state.tolist()} is not stationary at "
                                    f"{params} (|F| = {moved:.3g}); choose parameters that "
                                    "do not move it")
            jac = vf.jacobian_fn(state, params or None)
            mu = map_eigenvalues(jac, rule, lr_g=g_rate, lr_d=d_rate, n_theta=n_theta,
                                 settings=extra)
            radius[i, j] = float(np.max(np.abs(mu)))
    return radius


def stability_map(
    ax: Axes,
    x: Sequence[float] | Array,
    y: Sequence[float] | Array,
    spectral_radius: Any,
    *,
    xlabel: str = "",
    ylabel: str = "",
    vmax: float = 2.0,
    colorbar: bool = True,
) -> Axes:
    """Draw a spectral radius over two parameters, with the stability boundary (radius 1).

    Parameters
    ----------
    ax
        Where to draw.
    x, y
        The parameter values, increasing, ``(n,)`` and ``(m,)``.
    spectral_radius
        ``(m, n)``: ``spectral_radius[i, j]`` at ``(x[j], y[i])`` (e.g. from
        :func:`map_radius_grid`, or an analytic one). Non-finite values are
        left blank.
    xlabel, ylabel
        Axis labels.
    vmax
        Radii above this share the top colour (divergence is fast anyway).
    colorbar
        Add a colour bar to the Axes' figure.

    Returns
    -------
    Axes
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    radius = np.asarray(spectral_radius, dtype=np.float64)
    if radius.shape != (len(ys), len(xs)):
        raise SpecError(f"spectral_radius must have shape {(len(ys), len(xs))}, "
                        f"got {radius.shape}")
    if len(xs) < 2 or len(ys) < 2 or np.any(np.diff(xs) <= 0) or np.any(np.diff(ys) <= 0):
        raise SpecError("x and y must be increasing with at least two values each")
    if not vmax > 1.0:
        raise SpecError(f"vmax must exceed 1, got {vmax}")
    mesh = ax.pcolormesh(xs, ys, np.ma.masked_invalid(radius), shading="nearest",
                         cmap="cividis", vmin=0.0, vmax=float(vmax), rasterized=True)
    boundary = zero_level_lines(xs, ys, radius - 1.0)
    ax.plot(boundary[:, 0], boundary[:, 1], color="white", linewidth=1.0,
            label="spectral radius 1")
    ax.set_xlim(xs[0], xs[-1])
    ax.set_ylim(ys[0], ys[-1])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if colorbar and ax.figure is not None:
        bar = ax.figure.colorbar(mesh, ax=ax, extend="max" if np.nanmax(radius) > vmax else
                                 "neither")
        bar.set_label("spectral radius")
    return ax
