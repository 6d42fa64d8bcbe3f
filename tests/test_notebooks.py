"""The notebooks in examples/ run, show gandyn's objects richly and print what they claim.

Each notebook is executed in a fresh Jupyter kernel (nbclient, ipykernel's ``python3``) in a
temporary copy of the folders it reads, so that running it cannot write into the repository.
What it prints is compared with independent references: closed forms worked out by hand, and
the raw lines of the training log it explains, parsed here with a regular expression.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NOTEBOOKS = ("dirac-gan-tour.ipynb", "explain-your-log.ipynb", "nash-existence.ipynb")
#: What each notebook reads, relative to the repository (copied beside the temporary copy).
READS = {"explain-your-log.ipynb": ("tests/data/real_logs/pytorch-examples-dcgan-fake-bs64.txt",)}
LOG = ROOT / "tests/data/real_logs/pytorch-examples-dcgan-fake-bs64.txt"


def execute(name: str, tmp_path: Path) -> Any:
    """The notebook ``name`` executed with ``examples/`` of a temporary tree as its folder."""
    for relative in READS.get(name, ()):
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / relative, target)
    folder = tmp_path / "examples"
    folder.mkdir()
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    # The kernel imports this checkout's gandyn, whatever is installed.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    client = nbclient.NotebookClient(notebook, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(folder)}})
    client.execute(env=env)
    assert sorted(p.name for p in folder.iterdir()) == []  # the notebooks write no file
    return notebook


def printed(notebook: Any) -> str:
    """Everything the notebook's code cells printed."""
    return "".join(output.get("text", "") for cell in notebook.cells
                   for output in cell.get("outputs", []) if output.output_type == "stream")


def value(text: str, name: str) -> str:
    """The value of the printed line ``name = value``."""
    match = re.search(rf"^{re.escape(name)} = (.*)$", text, flags=re.M)
    assert match, f"{name!r} not printed"
    return match.group(1)


def rich(notebook: Any, mime: str) -> list[str]:
    """The outputs of type ``mime`` (``text/html``, ``image/png``, ``text/latex``)."""
    return [output.data[mime] for cell in notebook.cells for output in cell.get("outputs", [])
            if "data" in output and mime in output.data]


def softplus(x: float) -> float:
    return math.log1p(math.exp(-abs(x))) + max(x, 0.0)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebooks_are_stored_without_outputs(name: str) -> None:
    notebook = nbformat.read(EXAMPLES / name, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)


def test_dirac_gan_tour(tmp_path: Path) -> None:
    notebook = execute("dirac-gan-tour.ipynb", tmp_path)
    text = printed(notebook)
    # Mescheder et al. (2018), Sec. 2.2: at (0, 0) dF/dx = [[0, f'(0)], [-f'(0), 0]] with
    # f'(0) = sigmoid(0) = 1/2, so the eigenvalues are +-i/2.
    assert json.loads(value(text, "real parts")) == pytest.approx([0.0, 0.0], abs=1e-12)
    assert json.loads(value(text, "imaginary parts")) == pytest.approx([-0.5, 0.5], abs=1e-12)
    # The last state and losses: d_fake = softplus(l), g_loss = softplus(-l), l = psi theta.
    theta, psi = float(value(text, "final theta")), float(value(text, "final psi"))
    assert float(value(text, "final d_fake")) == pytest.approx(softplus(psi * theta), rel=1e-12)
    assert float(value(text, "final g_loss")) == pytest.approx(softplus(-psi * theta), rel=1e-12)
    assert float(value(text, "max |d_fake - g_loss - psi*theta|")) < 1e-12
    assert float(value(text, "max |d_real - log 2|")) < 1e-12
    assert float(value(text, "largest relative deviation of the step ratio from (1 - p)/p")) < 0.01
    assert float(value(text, "D(G(z)) at the start")) == pytest.approx(1 / (1 + math.exp(4)),
                                                                       abs=5e-5)
    steps = re.findall(r"^step \d: l from (\S+) to (\S+); g_loss moves (\S+) times as much as "
                       r"d_fake; \(1 - p\)/p = (\S+)$", text, flags=re.M)
    assert len(steps) == 5
    for l0, l1, moved, law in (map(float, s) for s in steps):
        # the change of each loss over the step, from the closed forms at the printed logits
        exact = (softplus(-l0) - softplus(-l1)) / (softplus(l1) - softplus(l0))
        assert moved == pytest.approx(exact, rel=0.01)
        assert law == pytest.approx(math.exp(-(l0 + l1) / 2), rel=0.01)  # (1 - p)/p = e^-l
    html = rich(notebook, "text/html")
    assert any("RunResult: dirac / non-saturating / simgd" in h and "<table>" in h for h in html)
    assert any(h.startswith("<div><p><strong>Explanation") for h in html)
    assert rich(notebook, "text/latex")  # the derived field
    assert rich(notebook, "image/png")  # the figure, inline


def _log_records() -> list[tuple[float, float]]:
    """``(Loss_G, D(G(z)) after D's update)`` of each record of the PyTorch DCGAN log."""
    pattern = re.compile(r"^\[\d+/\d+\]\[\d+/\d+\] Loss_D: \S+ Loss_G: (\S+) D\(x\): \S+ "
                         r"D\(G\(z\)\): \S+ / (\S+)$")
    lines = LOG.read_text(encoding="utf-8").splitlines()
    return [(float(m.group(1)), float(m.group(2))) for m in map(pattern.match, lines) if m]


def test_explain_your_log(tmp_path: Path) -> None:
    notebook = execute("explain-your-log.ipynb", tmp_path)
    text = printed(notebook)
    records = _log_records()
    assert int(value(text, "records")) == len(records) > 100
    g_loss = [g for g, _ in records]
    assert float(value(text, "mean g_loss")) == pytest.approx(sum(g_loss) / len(g_loss),
                                                              rel=1e-12)
    # d_fake = -log(1 - D(G(z))) with the D(G(z)) printed after the discriminator's update
    d_fake = [-math.log1p(-b) for _, b in records]
    assert float(value(text, "mean d_fake")) == pytest.approx(sum(d_fake) / len(d_fake),
                                                              rel=1e-9)
    # the verdict the calibration set expects for this log read this way
    manifest = json.loads((LOG.parent / "manifest.json").read_text(encoding="utf-8"))
    entry = next(e for e in manifest["logs"] if e["file"] == LOG.name)
    expected = next(v for v in entry["variants"] if v["name"] == "after-update")
    assert value(text, "verdict") == expected["expected_verdict"]
    html = rich(notebook, "text/html")
    assert any(h.startswith("<div><p><strong>Explanation") and "pytorch-dcgan" in h
               for h in html)
    assert any("<table" in h for h in html if "count" in h)  # the DataFrame's describe()
    assert rich(notebook, "image/png")


def test_nash_existence(tmp_path: Path) -> None:
    notebook = execute("nash-existence.ipynb", tmp_path)
    text = printed(notebook)
    # Hide-and-seek, cost_g = (theta - psi)^2 on [-1, 1]^2, worked by hand: the generator can
    # guarantee max_psi (theta - psi)^2 >= 1 (min-max 1 at theta = 0), the discriminator
    # nothing (the generator copies psi: max-min 0); the mixed value is 1.
    assert int(value(text, "pure Nash equilibria")) == 0
    assert float(value(text, "min_max")) == pytest.approx(1.0, abs=1e-12)
    assert float(value(text, "max_min")) == pytest.approx(0.0, abs=1e-12)
    assert float(value(text, "mixed value")) == pytest.approx(1.0, abs=1e-9)
    theta_support = json.loads(value(text, "mixed theta").replace("(", "[").replace(")", "]"))
    assert len(theta_support) == 1
    assert theta_support[0] == pytest.approx([0.0, 1.0], abs=1e-9)
    psi_support = json.loads(value(text, "mixed psi").replace("(", "[").replace(")", "]"))
    assert [v for v, _ in psi_support] == pytest.approx([-1.0, 1.0])
    weights = [q for _, q in psi_support]
    assert sum(weights) == pytest.approx(1.0)
    # on the 101-point grid (h = 0.02) theta = 0 stays a best response while |q - 1/2| <= h/4
    assert all(abs(q - 0.5) <= 0.02 / 4 + 1e-9 for q in weights)
    assert value(text, "smallest expected cost") == "1.000000 at theta = 0.000000"
    # Two-point data +-1, quadratic logit, Wasserstein loss (three discriminator parameters):
    # V = -psi_1 theta + psi_2 (1 - theta^2); min-max 1, max-min 0 on theta in [-2, 2],
    # psi in [-1, 1]^3; a mixed generator matches E theta = 0, E theta^2 = 1, value 0.
    assert value(text, "pure verdict") == "none-found"
    assert float(value(text, "smallest gap")) == pytest.approx(1.0, abs=1e-7)
    assert float(value(text, "pure min_max")) == pytest.approx(1.0, abs=1e-7)
    assert float(value(text, "pure max_min")) == pytest.approx(0.0, abs=1e-7)
    assert float(value(text, "discretized mixed value")) == pytest.approx(0.0, abs=1e-9)
    assert float(value(text, "generator mean")) == pytest.approx(0.0, abs=1e-8)
    assert float(value(text, "generator second moment")) == pytest.approx(1.0, abs=1e-8)
    # The nonparametric critic: min_theta W1(data, delta_theta) = min max(|theta|, 1) = 1.
    assert float(value(text, "critic min_max")) == pytest.approx(1.0, abs=1e-12)
    assert value(text, "critic pure Nash") == "False"
    assert value(text, "generator hops") == "(0.5, -1.0, 1.0, -1.0)"
    html = rich(notebook, "text/html")
    assert any("Analysis: hide-and-seek" in h and "min-max" in h for h in html)
    assert rich(notebook, "text/latex")  # the game's costs
    assert rich(notebook, "image/png")
