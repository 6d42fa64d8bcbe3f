"""Regenerate docs/figures/explore.png, the README's screenshot of ``gandyn explore``.

The page is that of ``gandyn explore --loss non-saturating --reg r1:gamma=0.1
--optimizer altgd --lr 0.2 --steps 300``, opened in headless chromium (Debian's
``chromium`` by its path, driven by Playwright; no browser is downloaded) with
the cursor two thirds along the run, so that the logit panel marks a state
inside the run. Run ``python docs/make_explore_screenshot.py [--chromium PATH]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default=os.environ.get("GANDYN_CHROMIUM")
                        or shutil.which("chromium") or shutil.which("chromium-browser"))
    parser.add_argument("--out", default=str(HERE / "figures" / "explore.png"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from gandyn.explore.page import explore_page
    from gandyn.runs.parts import GameSpec, RegularizerSpec

    part = GameSpec(name="dirac", loss="non-saturating",
                    regularizers=(RegularizerSpec("r1", (("gamma", 0.1),)),))
    html = explore_page(part, rule="altgd", lr_g=0.2, lr_d=0.2, steps=300)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        page_path = Path(folder) / "explore.html"
        page_path.write_text(html, encoding="utf-8")
        browser = playwright.chromium.launch(executable_path=args.chromium,
                                             args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1500, "height": 1050})
        tab.goto(page_path.as_uri())
        tab.wait_for_function("window.gandynExplore && window.gandynExplore.firstDrawMs")
        tab.click("#reset")
        for _ in range(200):
            tab.click("#step")
        tab.screenshot(path=args.out, full_page=False)
        browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
