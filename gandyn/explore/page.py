"""Assemble the explore page: the offered variants' JavaScript, the data, the program, one file.

The page is one HTML document with its style and scripts inlined (no network,
no server): the template and the program live beside this module in
``static/``; the game's expressions come from :mod:`gandyn.explore.variants`.
The data block is JSON inside a ``<script type="application/json">`` element,
with ``</`` escaped so that no string can close the element early.

References
----------
.. [1] Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS
   (the flow, the discrete maps and their spectra drawn on the page).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

from gandyn import __version__
from gandyn.errors import SpecError
from gandyn.explore.jscode import JS_HELPERS
from gandyn.explore.names import MAX_PAGE_STEPS, PAGE_RULES
from gandyn.explore.variants import offer
from gandyn.files import shareable_name
from gandyn.rules.registry import METHODS
from gandyn.runs.parts import GameSpec
from gandyn.runs.spec import RunSpec

__all__ = ["FLOW_SUBSTEPS", "explore_page"]

#: RK4 steps per ``lr_g`` of time when the page integrates the flow.
FLOW_SUBSTEPS = 8


def _static(name: str) -> str:
    return resources.files("gandyn.explore").joinpath("static", name).read_text(encoding="utf-8")


def _escape(text: str) -> str:
    """``text`` as HTML character data."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rules() -> dict[str, Any]:
    table: dict[str, Any] = {}
    for name in PAGE_RULES:
        method = METHODS[name]
        settings = [] if name == "flow" else [
            {"name": s.name, "default": s.default, "meaning": s.meaning} for s in method.settings]
        table[name] = {"title": method.title, "reference": method.reference, "settings": settings}
    return table


def _view(start: tuple[float, float]) -> dict[str, float]:
    """A square view centred on 0 that holds the start with a margin (at least [-2, 2])."""
    half = max(2.0, 1.5 * max(abs(start[0]), abs(start[1])))
    return {"xmin": -half, "xmax": half, "ymin": -half, "ymax": half}


def explore_page(part: GameSpec, *, rule: str | None = None, lr_g: float | None = None,
                 lr_d: float | None = None, steps: int | None = None,
                 start: Mapping[str, float] | None = None,
                 base_dir: str | Path | None = None,
                 regularizers: Sequence[str] | None = None) -> str:
    """The explore page of a two-parameter game, as HTML text.

    Parameters
    ----------
    part
        The game part of a spec: game or game file, loss, regularizers, params.
        The loss and regularizers are the page's first choices; the page offers
        every catalogue loss and regularizer beside them.
    rule, lr_g, lr_d, steps
        The update rule and its rates and steps the page starts with
        (default: those of :class:`gandyn.runs.spec.RunSpec`).
    start
        The starting state by symbol name (default: the game's).
    base_dir
        Where a relative game file is looked for first.
    regularizers
        Offer only these regularizers (and those of ``part``) beside none
        (default: every one that applies; a smaller page is faster to build).

    Returns
    -------
    str
        A self-contained HTML document.

    Raises
    ------
    SpecError
        A game that is not two-dimensional, a rule the page does not run, an
        unknown start symbol or a non-positive rate.
    """
    defaults = RunSpec()
    rule = rule or defaults.rule.name
    if rule not in PAGE_RULES:
        raise SpecError(f"`optimizer` {rule!r} is not on the explore page (it runs "
                        f"{', '.join(PAGE_RULES)})")
    lr_g = defaults.rule.lr_g if lr_g is None else float(lr_g)
    lr_d = lr_g if lr_d is None else float(lr_d)
    steps = defaults.steps if steps is None else int(steps)
    if not 1 <= steps <= MAX_PAGE_STEPS:
        raise SpecError(f"`steps` must lie in [1, {MAX_PAGE_STEPS}] on the explore page, "
                        f"not {steps}")
    if not (lr_g > 0 and lr_d > 0):
        raise SpecError("`lr` must be positive")
    offered = offer(part, base_dir, regularizers=regularizers)
    x0 = list(offered.start)
    for name, value in (start or {}).items():
        if name not in offered.state_names:
            raise SpecError(f"`x0` names {name!r}, not a parameter of the game "
                            f"({', '.join(offered.state_names)})")
        x0[offered.state_names.index(name)] = float(value)
    first = offered.variants[0]
    data = {
        "version": __version__,
        "game": offered.game,
        "gameName": part.name,
        "gameOptions": dict(part.options),
        "gameFile": None if part.file is None else shareable_name(part.file),
        "stateNames": list(offered.state_names),
        "start": x0,
        "losses": [loss or "-" for loss in offered.losses],
        "regularizers": list(offered.regularizers),
        "defaults": {"loss": first.loss or "-", "regularizer": first.regularizer, "rule": rule,
                     "lrG": lr_g, "lrD": lr_d, "steps": steps},
        "parameters": [{"name": p.name, "value": p.value, "doc": p.doc,
                        "nonNegative": p.of_regularizer} for p in offered.parameters],
        "variantParams": {v.key: list(v.params) for v in offered.variants},
        "regTexts": {v.key: list(v.reg_texts) for v in offered.variants},
        "rules": _rules(),
        "view": _view((x0[0], x0[1])),
        "maxNorm": defaults.max_norm,
        "flowSubsteps": FLOW_SUBSTEPS,
    }
    variants = ",\n".join(f"{json.dumps(v.key)}: {v.code}" for v in offered.variants)
    code = "\n".join([
        JS_HELPERS,
        "const GANDYN_VARIANTS = {\n" + variants + "\n};",
        "const GANDYN_LOGIT = " + (offered.logit_code or "null") + ";",
        _static("rules.js"),
        _static("app.js"),
    ])
    title = offered.game if first.loss is None else f"{offered.game} / {first.loss}"
    return Template(_static("page.html")).substitute(
        GANDYN_VERSION=__version__,
        GANDYN_TITLE=_escape(title),
        GANDYN_STYLE=_static("style.css"),
        GANDYN_REFERENCES=_escape(f"{offered.title}: {offered.reference}. The update rules "
                                  "follow gandyn.rules (each rule's source: its tooltip)."),
        GANDYN_DATA=json.dumps(data).replace("</", "<\\/"),
        GANDYN_CODE=code.replace("</script", "<\\/script"),
    )
