"""Size and time to first draw of the ``gandyn explore`` page, and the time to build it.

Goals (issue 16): the page under 2 MB and its first draw under 1 s in headless
chromium. The page is the default one of ``gandyn explore --loss non-saturating``
(every loss and every regularizer the Dirac-GAN takes: 70 derived combinations).
The first draw is read from the page (``performance.now()`` once the portrait,
the losses, the logit panel and the spectrum are drawn, counted from the start of
navigation); the wall time of the browser's ``goto`` is printed beside it.

The build is timed in fresh processes, ``--builds`` times, interleaved: *cold*
with an empty cache folder (every combination derived and printed), then *warm*
with the folder the cold build filled (each combination's JavaScript read from
the cache); the ratio warm/cold is the baseline-relative number to report, with
the load (``uptime``). The SHA-256 of the pages is compared: a cached page must be
the cold page byte for byte.

Run ``python benchmarks/bench_explore.py [--builds N] [--repeat N] [--chromium PATH]``; needs
Playwright and a system chromium (Debian's ``chromium``), never a downloaded build.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: One build in a fresh process (no derivation or expansion memoized in memory): it writes
#: the page to argv[1] and prints its build time in seconds.
_BUILD = """
import sys, time
from gandyn.explore.page import explore_page
from gandyn.runs.parts import GameSpec
start = time.perf_counter()
html = explore_page(GameSpec(name="dirac", loss="non-saturating"))
print(time.perf_counter() - start)
open(sys.argv[1], "w", encoding="utf-8").write(html)
"""


def _build(cache: Path, page: Path, checkout: str | None = None) -> tuple[float, str]:
    """Build the page in a fresh process with ``cache`` as the cache folder.

    ``checkout``: the gandyn source folder to import (default: as this process does).
    """
    env = {**os.environ, "GANDYN_CACHE_DIR": str(cache)}
    if checkout is not None:
        env["PYTHONPATH"] = checkout
    done = subprocess.run([sys.executable, "-c", _BUILD, str(page)], env=env, check=True,
                          capture_output=True, text=True)
    return float(done.stdout.split()[-1]), hashlib.sha256(page.read_bytes()).hexdigest()


def _load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="page loads (median)")
    parser.add_argument("--builds", type=int, default=1,
                        help="cold and warm builds, interleaved (median)")
    parser.add_argument("--no-browser", action="store_true", help="time the builds only")
    parser.add_argument("--baseline", metavar="CHECKOUT",
                        help="also time a cold build of another gandyn checkout (a folder), "
                        "interleaved, and compare its page")
    parser.add_argument("--save", metavar="PATH", help="keep a copy of the page")
    parser.add_argument("--chromium", default=os.environ.get("GANDYN_CHROMIUM")
                        or shutil.which("chromium") or shutil.which("chromium-browser"),
                        help="the chromium executable (default: chromium on the PATH)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "explore.html"
        colds, warms, bases, digests = [], [], [], set()
        print(f"before: {_load()}")
        for i in range(args.builds):
            cache = Path(folder) / f"cache-{i}"  # a cold derivation and page cache
            seconds, digest = _build(cache, page)
            colds.append(seconds)
            digests.add(digest)
            seconds, digest = _build(cache, page)
            warms.append(seconds)
            digests.add(digest)
            if args.baseline:
                seconds, digest = _build(Path(folder) / f"base-{i}", page, args.baseline)
                bases.append(seconds)
                digests.add(digest)
        print(f"after: {_load()}")
        cold, warm = statistics.median(colds), statistics.median(warms)
        size = page.stat().st_size
        print(f"page size: {size / 2**20:.3f} MB (goal < 2 MB)")
        print(f"build (fresh process, median of {args.builds}): {cold:.2f} s cold cache, "
              f"{warm:.2f} s warm; warm/cold = {warm / cold:.3f}")
        if bases:
            base = statistics.median(bases)
            print(f"baseline {args.baseline}: {base:.2f} s cold; cold/baseline = "
                  f"{cold / base:.3f}, warm/baseline = {warm / base:.3f}")
        print("pages identical (cold, warm" + (", baseline" if bases else "") + "): "
              + ("yes" if len(digests) == 1 else "NO"))
        if args.save:
            shutil.copyfile(page, args.save)
        if args.no_browser:
            return
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
