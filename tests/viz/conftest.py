"""A real headless browser for the pages (Debian's chromium, through Playwright).

CI installs chromium (``.ci/run``); without it these tests fail and say how to
install it, rather than skipping.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def chromium_path() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "These tests need a Chromium browser: `apt-get install chromium` (Debian; "
        ".ci/run does it), or put chromium on PATH."
    )


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Per module: Playwright's sync API keeps an asyncio loop marked as running
    # in this thread while it is open, and async tests elsewhere need it gone.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox"]
        )
        yield launched
        launched.close()


class Opened:
    """A page opened from a file, with what it logged and fetched."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        self.requests: list[str] = []
        page.on(
            "console",
            lambda m: (
                self.errors.append(m.text) if m.type in ("error", "warning") else None
            ),
        )
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))


@pytest.fixture
def open_page(browser: Any, tmp_path: Path) -> Iterator[Any]:
    """``open_page(html)`` writes ``html`` to a file and opens it in the browser."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})

    def opener(html: str, name: str = "page.html") -> Opened:
        path = tmp_path / name
        path.write_text(html, encoding="utf-8")
        page = context.new_page()
        opened = Opened(page)
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        return opened

    yield opener
    context.close()
