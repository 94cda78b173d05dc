#!/usr/bin/env python3
"""Remake the screenshots in docs/images from examples/pictures.py (needs chromium).

.venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"


def main() -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("needs chromium on PATH (Debian: apt-get install chromium)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        subprocess.run(
            [sys.executable, str(ROOT / "examples" / "pictures.py"), "--out", str(out)],
            check=True,
        )
        IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy(out / "timeline.svg", IMAGES / "timeline.svg")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium, args=["--no-sandbox"]
            )
            page = browser.new_page(viewport={"width": 1560, "height": 420})
            page.goto((out / "pipeline.html").as_uri())
            page.click('g.node[data-name="train"]')
            page.eval_on_selector("#canvas", "canvas => canvas.scrollTo(0, 0)")
            page.screenshot(path=str(IMAGES / "pipeline.png"))
            page.set_viewport_size({"width": 1140, "height": 330})
            page.goto((out / "timeline.html").as_uri())
            page.hover('g.task[data-node="report"] rect')
            page.screenshot(path=str(IMAGES / "timeline.png"))
            browser.close()
    print(f"wrote {IMAGES}/pipeline.png, timeline.png, timeline.svg")


if __name__ == "__main__":
    main()
