"""Every ```python block of README.md and docs/*.md runs as a test, with Sybil.

How the blocks run is in ``_sybil.py``. pytest only calls a conftest's collection
hooks for files in its own folder, and README.md and docs/ are outside
``tests/``: the documents are collected along with ``test_docs.py``, next to this
file, so ``pytest tests/docs`` (or the whole suite) runs them, listed under their
own paths (``README.md::line:13,column:1``). ``docs/*.md`` is globbed, so a new
page is covered as soon as it exists.
"""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sybil.integration.pytest import SybilFile

from tests._http import JSONHandler

from ._sybil import DOCS, documents

if TYPE_CHECKING:
    from collections.abc import Iterator

ANCHOR = Path(__file__).with_name("test_docs.py")


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Any:
    """Collect the documents beside ``test_docs.py``, each as a file of examples."""
    collected = yield
    if file_path == ANCHOR:
        collected.extend(
            SybilFile.from_parent(parent, path=doc, sybils=[DOCS])
            for doc in documents()
        )
    return collected


class _Handler(JSONHandler):
    """Answers any GET with a small JSON document naming the path asked for."""

    def do_GET(self) -> None:
        self.send_json(200, {"path": self.path, "items": [1, 2, 3]})


@pytest.fixture(scope="session")
def docs_http_server() -> Iterator[str]:
    """A local HTTP server on 127.0.0.1 for blocks that fetch a URL: its base URL."""
    with ThreadingHTTPServer(("127.0.0.1", 0), _Handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_port}"
        server.shutdown()
        thread.join()
