"""Make the figure gallery: docs/gallery.md and the images in docs/figures/gallery/.

Each entry is one ``gandyn`` command line, run as a user would run it; the page
shows the image, the command that made it and what it shows. Run it from the
repository root::

    python docs/make_gallery.py            # rewrite the page and every image
    python docs/make_gallery.py --check    # exit 1 if docs/gallery.md is not what it would write

The test suite runs ``--check`` (the page and the list of commands agree, every
image exists) by default, and the whole regeneration among the slow tests.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "gallery.md"
IMAGES = ROOT / "docs" / "figures" / "gallery"


@dataclass(frozen=True)
class Entry:
    """One figure of the gallery: a name, a title, the command and what it shows."""

    name: str
    title: str
    command: str
    shows: str

    def argv(self, out: Path) -> list[str]:
        return shlex.split(self.command.replace("FIG", str(out)))


ENTRIES = (
    Entry("simulate", "A run: phase portrait and logged losses",
          "gandyn simulate --loss non-saturating --steps 400 --plot FIG",
          "The Dirac-GAN under simultaneous gradient steps from the documented start: the flow "
          "field, the iterates spiralling out of the equilibrium, and `d_real`, `d_fake`, "
          "`g_loss` along the run."),
    Entry("explain", "Why `g_loss` swings while `d_fake` stays flat",
          "gandyn explain --reg r1:gamma=0.1 --x0 theta=0.3,psi=0.3 --steps 2000 --plot FIG",
          "Both losses with the regimes shaded, `g_loss` predicted from `d_fake` by the logit "
          "law, and `p = D(G(z))` below."),
    Entry("costs", "Generator costs against D(G(z))",
          "gandyn figure costs --losses minimax,non-saturating --out FIG",
          "The minimax cost `log(1 - D(G(z)))` saturates where the discriminator wins; the "
          "non-saturating `-log D(G(z))` does not (Goodfellow 2016, Fig. 16)."),
    Entry("nash-map", "A game without a pure Nash equilibrium",
          "gandyn figure nash-map --game hide-and-seek --grid 41 --out FIG",
          "Payoff, both best responses (they never meet), the min-max and max-min lines and "
          "the mixed equilibrium."),
    Entry("eigenvalues", "Eigenvalues against a rule's stability region",
          "gandyn figure eigenvalues --reg r1:gamma=0.3 --optimizer simgd --lr 0.5 --out FIG",
          "The Jacobian's eigenvalues at the equilibrium of the Dirac-GAN with R1 inside the "
          "disc where simultaneous steps of size 0.5 are stable."),
    Entry("stability-map", "Where a rule is stable, over two parameters",
          "gandyn figure stability-map --reg r1:gamma=1 --x lr=0.01:3:41 "
          "--y gamma_r1=0.05:2:41 --out FIG",
          "The spectral radius of simultaneous steps at the equilibrium over the learning "
          "rate and the R1 weight, with its boundary `rho = 1`."),
    Entry("time-scales", "How the ratio of learning rates decides stability",
          "gandyn figure time-scales --game bilinear --param a=-0.5,b=1 --out FIG",
          "The bilinear game with the generator's own cost `-theta^2/4`: its equilibrium is "
          "not a Nash equilibrium but a local minimax point, and the flow converges to it only "
          "when the discriminator learns more than `tau* = 0.5` times as fast as the "
          "generator (Fiez and Ratliff 2021)."),
    Entry("portrait-axes", "Two coordinates of a larger game",
          "gandyn simulate --game gaussian --steps 300 --plot FIG --axes theta_mu,psi_1 "
          "--slice-at theta_sigma=1,psi_0=0,psi_2=0",
          "The Gaussian game has five parameters: the run is projected onto `theta_mu` and "
          "`psi_1`, and the field is drawn on the plane where the other three are held at "
          "the stated values."),
    Entry("sweep", "A convergence map",
          "gandyn sweep --reg r1 --x0 theta=0.1,psi=0.1 --axis lr=0.05:2:12:log "
          "--axis gamma=0:1:9 --steps 400 --plot FIG",
          "The verdict of every cell (converged, cycling, diverged) beside the linear "
          "prediction's boundary `rho = 1`."),
)

HEADER = """# Figure gallery

Every figure gandyn draws from the command line, made by the command under it (with `FIG`
the output file: `.pdf`, `.svg` or `.png`). Each also writes a JSON sidecar with the values
that made it and a `.data.npz` with the arrays it shows. This page and its images are written
by `python docs/make_gallery.py`; the tests check that the page matches the commands.
"""


def page() -> str:
    """The Markdown of the gallery."""
    parts = [HEADER]
    for entry in ENTRIES:
        parts.append(f"## {entry.title}\n\n![{entry.title}](figures/gallery/{entry.name}.png)\n\n"
                     f"```bash\n{entry.command}\n```\n\n{entry.shows}\n")
    return "\n".join(parts)


def make_images(folder: Path) -> None:
    """Run every entry's command, keeping only the PNG (the sidecars stay in a scratch folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        for entry in ENTRIES:
            out = Path(scratch) / f"{entry.name}.png"
            argv = entry.argv(out)
            result = subprocess.run([sys.executable, "-m", "gandyn", *argv[1:]],
                                    capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise SystemExit(f"{entry.name}: {entry.command} failed: {result.stderr.strip()}")
            (folder / out.name).write_bytes(out.read_bytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare docs/gallery.md with the commands; write nothing")
    args = parser.parse_args(argv)
    if args.check:
        missing = [e.name for e in ENTRIES if not (IMAGES / f"{e.name}.png").is_file()]
        if PAGE.read_text(encoding="utf-8") != page() or missing:
            print("docs/gallery.md is out of date" + (f"; missing images: {missing}"
                                                       if missing else ""), file=sys.stderr)
            return 1
        return 0
    make_images(IMAGES)
    PAGE.write_text(page(), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)} and {len(ENTRIES)} images")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
