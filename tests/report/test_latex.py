"""The LaTeX of ``gandyn derive --format latex`` compiles as it is and keeps symbols apart."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import sympy as sp

from gandyn.derivation.field import derive
from gandyn.games.game import make_game
from gandyn.report.derivation import Derivation, to_latex
from gandyn.symbolic.functions import sigmoid
from gandyn.symbolic.printing import latex, latex_symbol

PDFLATEX = shutil.which("pdflatex")


def test_subscripts_nest_instead_of_merging() -> None:
    # sympy alone prints u_x_data as u_{x data}: two subscripts run together
    assert latex_symbol("u_x_data") == r"u_{x_{\mathrm{data}}}"
    assert latex_symbol("theta_mu") == r"\theta_{\mu}"
    assert latex_symbol("gamma_r1") == r"\gamma_{\mathrm{r1}}"
    assert latex_symbol("psi_0") == r"\psi_{0}"


def test_the_sigmoid_and_a_data_scale_sigma_print_differently() -> None:
    sigma = sp.Symbol("sigma", positive=True)
    text = latex(sigmoid(sigma))
    assert text == r"\operatorname{sigmoid}\left(\sigma\right)"


def _derivation(game: str, **options: object) -> Derivation:
    return Derivation(derive(make_game(game, **options)), None)  # type: ignore[arg-type]


def _compile(folder: Path, body: str) -> None:
    (folder / "doc.tex").write_text(
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb}\n\\begin{document}\n"
        + body + "\n\\end{document}\n")
    result = subprocess.run([str(PDFLATEX), "-interaction=nonstopmode", "-halt-on-error",
                             "doc.tex"], cwd=folder, capture_output=True, text=True,
                            timeout=120, check=False)
    errors = [line for line in result.stdout.splitlines() if line.startswith("!")]
    assert result.returncode == 0, errors
    assert (folder / "doc.pdf").stat().st_size > 0


@pytest.mark.skipif(PDFLATEX is None, reason="no pdflatex (Debian texlive-latex-base)")
def test_notebook_reprs_compile(tmp_path: Path) -> None:
    field = derive(make_game("gaussian", "non-saturating"))
    for obj in (field, field.game):
        text = obj._repr_latex_()
        assert text.startswith("$") and text.endswith("$")
        assert r"\sigma\left" not in text  # the sigmoid is not the data scale
    _compile(tmp_path, field._repr_latex_() + "\n\n" + field.game._repr_latex_())


@pytest.mark.skipif(PDFLATEX is None, reason="no pdflatex (Debian texlive-latex-base)")
@pytest.mark.parametrize(("game", "options"), [
    ("dirac", {"loss": "non-saturating", "regularizers": [("r1", {"gamma": 0.1})]}),
    ("gaussian", {"loss": "wasserstein"}),
    ("two-point", {}),
])
def test_the_latex_compiles(tmp_path: Path, game: str, options: dict[str, object]) -> None:
    _compile(tmp_path, to_latex(_derivation(game, **options)))
