"""Fixtures of the explore tests: a JavaScript engine (node) and a headless browser.

Both are test-time tools from Debian's packages (``nodejs``, ``chromium``, listed in
``.ci/apt-packages``) and Playwright from PyPI (the ``test`` extra); a test that needs
one that is missing is skipped with the reason. Playwright drives the system's chromium
by its path (``GANDYN_CHROMIUM`` or ``chromium`` on the PATH): browser builds are never
downloaded.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def chromium_path() -> str | None:
    """The system chromium's executable, or ``None``."""
    given = os.environ.get("GANDYN_CHROMIUM")
    if given:
        return given
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def node() -> str:
    """The path of node; skips where none is installed."""
    found = shutil.which("node") or shutil.which("nodejs")
    if found is None:
        pytest.skip("node is not installed (Debian package nodejs; see .ci/apt-packages)")
    return found


@pytest.fixture
def run_js(node: str, tmp_path: Path) -> Callable[[str], str]:
    """Run a script with node and return its standard output."""

    def run(script: str) -> str:
        path = tmp_path / "script.js"
        path.write_text(script, encoding="utf-8")
        done = subprocess.run([node, str(path)], capture_output=True, text=True, timeout=60,
                              check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    return run


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless chromium driven by Playwright; skips where either is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright; the test extra)")
    executable = chromium_path()
    if executable is None:
        pytest.skip("chromium is not installed (Debian package chromium; see .ci/apt-packages)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable,
                                              args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


class LoadedPage:
    """A page opened in the browser, with the console errors it printed."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1600, "height": 1200})
        self.errors: list[str] = []
        self.page.on("console",
                     lambda message: self.errors.append(message.text)
                     if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("window.gandynExplore && window.gandynExplore.firstDrawMs")

    def close(self) -> None:
        """Close the tab."""
        self.page.close()

    def js(self, expression: str, arg: Any = None) -> Any:
        """Evaluate ``expression`` (a function of ``arg`` when given) in the page."""
        return self.page.evaluate(expression, arg)


@pytest.fixture
def open_page(browser: Any) -> Iterator[Callable[[Path], LoadedPage]]:
    """Open page files in the browser; the tabs are closed after the test."""
    opened: list[LoadedPage] = []

    def open_one(path: Path) -> LoadedPage:
        opened.append(LoadedPage(browser, path))
        return opened[-1]

    yield open_one
    for loaded in opened:
        loaded.close()
