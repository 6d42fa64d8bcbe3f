"""Docstrings: one References style, and nothing that points outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: A References section of a numpydoc docstring and its body (up to a blank line and a dedent).
SECTION = re.compile(r"\n( *)References\n\1-{10}\n((?:\1.*\n|\n)*?)(?=\n\1\S|\n*\"\"\"|\Z)")
#: "Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. ..." (surnames, year, title).
ENTRY = re.compile(r"^(?:[A-Z]|von |de |van )[^()]*\(\d{4}[a-z]?(?:, \d{4})?\)\. \S")
INITIALS = re.compile(r"\b[A-Z][a-z]+, (?:[A-Z]\. ?)+")


def reference_entries(text: str) -> list[tuple[list[str], str]]:
    """Each References section's numbered entries, and the section's first line."""
    found = []
    for match in SECTION.finditer(text):
        body = match.group(2)
        first = next((line.strip() for line in body.splitlines() if line.strip()), "")
        found.append((re.findall(r"^\s*\.\. \[\d+\] (.*)", body, re.M), first))
    return found


def test_every_references_section_has_one_style() -> None:
    problems = []
    for path in sorted((ROOT / "gandyn").rglob("*.py")):
        for entries, first in reference_entries(path.read_text(encoding="utf-8")):
            where = path.relative_to(ROOT)
            if not entries:
                problems.append(f"{where}: entries not numbered '.. [n]': {first[:60]}")
            for entry in entries:
                if not ENTRY.match(entry) or INITIALS.search(entry.split("(")[0]):
                    problems.append(f"{where}: {entry[:70]}")
    assert problems == []


def test_the_style_check_can_fail() -> None:
    doc = '"""x.\n\nReferences\n----------\nGoodfellow, I. (2016). Tutorial.\n"""\n'
    assert reference_entries(doc) == [([], "Goodfellow, I. (2016). Tutorial.")]
    assert INITIALS.search("Goodfellow, I. ")
    assert ENTRY.match("Mescheder, Nowozin and Geiger (2017). The Numerics of GANs. NeurIPS")


def test_nothing_points_outside_the_repository() -> None:
    outside = re.compile(r"DESIGN\.md|shared/seeds|\.\./shared|/work/|/home/|/root/")
    problems = []
    for folder in ("gandyn", "tests", "studies", "benchmarks", "docs", "examples"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix not in {".py", ".md", ".toml", ".json", ".txt", ".cfg"}:
                continue
            if path == Path(__file__).resolve():
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if outside.search(line):
                    problems.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:70]}")
    assert problems == []


def test_every_dotted_gandyn_name_in_the_code_resolves() -> None:
    # A module or function moved by a refactoring leaves docstrings pointing at nothing.
    import importlib

    pattern = re.compile(r"(?<![\w/])gandyn(?:\.[A-Za-z_]\w*)+")
    made_up = {"gandyn.games.a", "gandyn.games.b", "gandyn.x", "gandyn.mplstyle"}
    problems = []
    for folder in ("gandyn", "tests", "studies", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in set(pattern.findall(path.read_text(encoding="utf-8"))) - made_up:
                parts = name.split(".")
                for i in range(len(parts), 0, -1):
                    try:
                        obj: object = importlib.import_module(".".join(parts[:i]))
                        break
                    except ImportError:
                        continue
                for part in parts[i:]:
                    if not hasattr(obj, part):
                        problems.append(f"{path.relative_to(ROOT)}: {name}")
                        break
                    obj = getattr(obj, part)
    assert sorted(problems) == []
