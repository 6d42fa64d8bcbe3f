"""The harness every study in ``studies/`` runs on.

A study regenerates one figure and its data and checks the claim the figure
illustrates. Each ``studies/<slug>/study.py`` is a short script::

    from gandyn.study import Study

    def run(study: Study) -> None:
        steps = 200 if study.quick else 2000
        ...                                    # compute
        study.check("R1 converges", radius < 1, f"spectral radius {radius:.3f}")
        with study.figure() as style:         # the paper style is in force here
            fig = style.new(TWO_COLUMN)
            ...                               # draw on fig
            study.save(fig, "dirac-gan", data={...})

    if __name__ == "__main__":
        Study.main(run, slug="dirac-gan", claim="...")

``python studies/<slug>/study.py [--quick] [--out DIR] [--force] [--formats pdf,png]``
writes into ``DIR`` (default ``studies/<slug>/out``, which is the study's
own output and is regenerated on every run). A ``DIR`` given with ``--out``
must be new or empty unless ``--force``: this is checked before the study
computes anything, and no file in it is overwritten without ``--force``.
Every file is written whole or not at all (:func:`gandyn.files.write_files`).
The study prints one line per claim and a
summary, writes ``claims.json`` next to the figure, and exits with status 1
when a claim fails, 2 on bad input. Figures are saved by
:func:`gandyn.plotting.save_figure`, so each comes with its ``.json``
sidecar and ``.data.npz`` and is byte-reproducible.

The module imports matplotlib only when a figure is drawn.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gandyn import __version__
from gandyn.errors import GandynError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Claim", "Study"]


@dataclass(frozen=True)
class Claim:
    """One checked statement of a study.

    Attributes
    ----------
    name
        What is claimed, as a sentence.
    holds
        Whether the computation bears it out.
    detail
        The numbers behind the verdict.
    """

    name: str
    holds: bool
    detail: str


class _FigureMaker:
    """Creates figures inside :meth:`Study.figure` (keeps matplotlib out of imports)."""

    def new(self, size: tuple[float, float]) -> Figure:
        from gandyn.plotting import paper_figure

        return paper_figure(size)


@dataclass
class Study:
    """The state of one study run: its options, its claims and its outputs.

    Attributes
    ----------
    slug
        The study's directory name under ``studies/``.
    out
        Where its files go.
    quick
        Reduced sizes for CI (the claims must still hold).
    formats
        Figure formats written for every saved figure (the first is the main file).
    force
        Overwrite files already in ``out`` (otherwise such a file is an error).
    claims
        The claims checked so far, in order.
    written
        The files written so far.
    """

    slug: str
    out: Path
    quick: bool = False
    formats: tuple[str, ...] = ("pdf", "png")
    force: bool = True
    claims: list[Claim] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def check(self, name: str, holds: bool, detail: str = "") -> bool:
        """Record a claim and whether it holds; returns ``holds``."""
        claim = Claim(name, bool(holds), detail)
        self.claims.append(claim)
        mark = "ok  " if claim.holds else "FAIL"
        print(f"[{mark}] {name}" + (f": {detail}" if detail else ""), flush=True)
        return claim.holds

    @contextmanager
    def figure(self) -> Iterator[_FigureMaker]:
        """The paper style in force; build *and* save figures inside this block."""
        from gandyn.plotting import paper_style

        with paper_style():
            yield _FigureMaker()

    def save(self, fig: Figure, name: str, *, data: Mapping[str, Any] | None = None,
             metadata: Mapping[str, Any] | None = None) -> list[Path]:
        """Save ``fig`` as ``<out>/<name>.<format>`` with sidecar and data."""
        from gandyn.plotting import save_figure

        meta = {"study": self.slug, "quick": self.quick, "gandyn_version": __version__,
                **self.metadata, **(metadata or {})}
        first, *rest = self.formats
        paths = save_figure(fig, self.out / f"{name}.{first}", metadata=meta, data=data,
                            force=self.force, also=tuple(rest))
        self.written.extend(paths)
        return paths

    def write_json(self, name: str, obj: Any) -> Path:
        """Write a JSON result file ``<out>/<name>`` (fixed layout)."""
        return self.write_text(name, json.dumps(obj, indent=2, sort_keys=True,
                                                allow_nan=False) + "\n")

    def write_text(self, name: str, text: str) -> Path:
        """Write the text file ``<out>/<name>`` (UTF-8), whole or not at all."""
        from gandyn.files import write_files

        path = self.out / name
        write_files({path: text.encode("utf-8")}, self.force)
        self.written.append(path)
        return path

    @property
    def failed(self) -> list[Claim]:
        """The claims that do not hold."""
        return [c for c in self.claims if not c.holds]

    @classmethod
    def main(cls, run: Callable[[Study], None], *, slug: str, claim: str,
             argv: Sequence[str] | None = None) -> None:
        """Parse the command line, run the study, report and exit.

        Exit status: 0 when every claim holds, 1 when one fails (or none was
        checked), 2 on bad options or a gandyn error.
        """
        study_dir = Path(sys.argv[0]).resolve().parent if argv is None else Path.cwd()
        parser = argparse.ArgumentParser(prog=f"studies/{slug}/study.py", description=claim)
        parser.add_argument("--quick", action="store_true",
                            help="reduced sizes for CI; the claims must still hold")
        parser.add_argument("--out", default=None,
                            help=f"output directory (default studies/{slug}/out)")
        parser.add_argument("--force", action="store_true",
                            help="write into a --out folder that holds files, replacing them")
        parser.add_argument("--formats", default="pdf,png",
                            help="figure formats, comma-separated (pdf, svg, png)")
        args = parser.parse_args(argv)
        formats = tuple(f.strip().lower().lstrip(".") for f in args.formats.split(",") if f.strip())
        bad = [f for f in formats if f not in ("pdf", "svg", "png")]
        if not formats or bad:
            parser.exit(2, f"error: unknown figure format {', '.join(bad) or '(none)'}; "
                           "use pdf, svg or png\n")
        if args.out is not None and not args.out.strip():
            parser.exit(2, "error: --out: empty folder name\n")
        out = Path(args.out) if args.out is not None else study_dir / "out"
        # The default folder is the study's own output, regenerated on every run; a folder
        # the user names is written only if new or empty, unless --force.
        force = args.force or args.out is None
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            parser.exit(2, f"error: cannot create {out}: {exc.strerror or exc}\n")
        if not force and any(out.iterdir()):
            parser.exit(2, f"error: refusing to write into {out}: it holds files (use --force "
                           "to replace them, or a new folder)\n")
        from gandyn.files import check_writable

        try:
            check_writable([out / "claims.json"], force=True)  # can files be created there?
        except GandynError as exc:
            parser.exit(2, f"error: {exc}\n")
        study = cls(slug=slug, out=out, quick=args.quick, formats=formats, force=force)
        print(f"{slug}: {claim}" + (" (quick)" if args.quick else ""))
        start = time.perf_counter()
        try:
            run(study)
            seconds = time.perf_counter() - start
            study.write_json("claims.json", {
                "study": slug, "claim": claim, "quick": study.quick,
                "seconds": round(seconds, 1), "gandyn_version": __version__,
                "claims": [{"name": c.name, "holds": c.holds, "detail": c.detail}
                           for c in study.claims],
            })
        except GandynError as exc:
            if os.environ.get("GANDYN_DEBUG"):
                raise
            parser.exit(2, f"error: {exc}\n")
        if not study.claims:
            print(f"{slug}: no claim was checked", file=sys.stderr)
            sys.exit(1)
        if study.failed:
            print(f"{slug}: {len(study.failed)} of {len(study.claims)} claims FAILED "
                  f"({seconds:.1f} s)", file=sys.stderr)
            sys.exit(1)
        print(f"{slug}: all {len(study.claims)} claims hold ({seconds:.1f} s); "
              f"output in {out}")
