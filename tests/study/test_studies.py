"""Every study in ``studies/`` runs in ``--quick`` mode and its claims hold.

Each study checks its own claim and exits non-zero when it fails, so running
it is the test; this module also checks that the outputs and the studies
table are in place.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

STUDIES_DIR = Path(__file__).resolve().parents[2] / "studies"
STUDIES = sorted(p.parent.name for p in STUDIES_DIR.glob("*/study.py"))


def _run(slug: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, str(STUDIES_DIR / slug / "study.py"), "--quick", "--out", str(out),
         *extra],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )


@pytest.mark.parametrize("slug", STUDIES)
def test_study_quick_claims_hold(slug: str, tmp_path: Path) -> None:
    result = _run(slug, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert claims["study"] == slug
    assert claims["claims"] and all(c["holds"] for c in claims["claims"])
    figures = list(tmp_path.glob("*.pdf"))
    assert figures, f"{slug} wrote no PDF figure"
    for fig in figures:
        assert fig.with_suffix(".png").exists()
        assert fig.with_name(fig.name + ".json").exists()  # one sidecar per output name
        assert (tmp_path / f"{fig.name}.data.npz").exists()


@pytest.mark.parametrize("slug", STUDIES)
def test_study_has_readme_and_table_row(slug: str) -> None:
    readme = (STUDIES_DIR / slug / "README.md").read_text()
    assert f"python studies/{slug}/study.py" in readme
    table = (STUDIES_DIR / "README.md").read_text()
    assert re.search(rf"^\|\s*\[`?{re.escape(slug)}`?\]", table, re.MULTILINE), slug


def test_bad_format_is_one_line_error(tmp_path: Path) -> None:
    if not STUDIES:
        pytest.skip("no studies")
    result = _run(STUDIES[0], tmp_path, "--formats", "gif")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) <= 3
