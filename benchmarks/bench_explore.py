"""Size and time to first draw of the ``gandyn explore`` page, and the time to build it.

Goals (issue 16): the page under 2 MB and its first draw under 1 s in headless
chromium. The page is the default one of ``gandyn explore --loss non-saturating``
(every loss and every regularizer the Dirac-GAN takes: 70 derived combinations).
The first draw is read from the page (``performance.now()`` once the portrait,
the losses, the logit panel and the spectrum are drawn, counted from the start of
navigation); the wall time of the browser's ``goto`` is printed beside it.

Run ``python benchmarks/bench_explore.py [--repeat N] [--chromium PATH]``; needs
Playwright and a system chromium (Debian's ``chromium``), never a downloaded build.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="page loads (median)")
    parser.add_argument("--chromium", default=os.environ.get("GANDYN_CHROMIUM")
                        or shutil.which("chromium") or shutil.which("chromium-browser"),
                        help="the chromium executable (default: chromium on the PATH)")
    args = parser.parse_args()
    from gandyn.explore.page import explore_page
    from gandyn.runs.parts import GameSpec

    with tempfile.TemporaryDirectory() as folder:
        os.environ["GANDYN_CACHE_DIR"] = str(Path(folder) / "cache")  # a cold derivation
        start = time.perf_counter()
        html = explore_page(GameSpec(name="dirac", loss="non-saturating"))
        cold = time.perf_counter() - start
        start = time.perf_counter()
        explore_page(GameSpec(name="dirac", loss="non-saturating"))
        warm = time.perf_counter() - start
        page = Path(folder) / "explore.html"
        page.write_text(html, encoding="utf-8")
        size = page.stat().st_size
        print(f"page size: {size / 2**20:.3f} MB (goal < 2 MB)")
        print(f"build: {cold:.2f} s with a cold derivation cache, {warm:.2f} s warm")
        if args.chromium is None:
            sys.exit("no chromium found: install Debian's chromium or pass --chromium PATH")
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            sys.exit("playwright is not installed: pip install playwright")
        draws, loads = [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium,
                                                 args=["--no-sandbox"])
            for _ in range(args.repeat):
                tab = browser.new_page(viewport={"width": 1600, "height": 1200})
                start = time.perf_counter()
                tab.goto(page.as_uri())
                tab.wait_for_function("window.gandynExplore && window.gandynExplore.firstDrawMs")
                loads.append(time.perf_counter() - start)
                draws.append(tab.evaluate("window.gandynExplore.firstDrawMs") / 1000)
                tab.close()
            browser.close()
        print(f"first draw: {statistics.median(draws):.3f} s after navigation start "
              f"(median of {args.repeat}; goal < 1 s); goto wall time "
              f"{statistics.median(loads):.3f} s")


if __name__ == "__main__":
    main()
