"""``dagloop new NAME``: a small project that ``dagloop run`` runs at once.

The project: ``pyproject.toml`` (naming its pipeline registry), ``conf/base``
(a catalog and parameters) and ``conf/local`` (credentials, kept out of version
control), a package with one pipeline whose first node is ``async def``, and a
test. It works offline: the "API" the async node calls is simulated.
"""

from __future__ import annotations

import keyword
import re
from string import Template
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["create_project"]


class ProjectExistsError(FileExistsError):
    """The folder for the new project exists and is not empty."""


def create_project(name: str, directory: Path) -> Path:
    """Write project ``name`` into ``directory / name``; return that folder.

    Raises:
        ValueError: For a name that cannot become a Python package name.
        ProjectExistsError: When the folder exists and is not empty.
    """
    package = re.sub(r"[^0-9a-zA-Z_]", "_", name).lower()
    if not re.fullmatch(r"[A-Za-z][\w-]*", name) or keyword.iskeyword(package):
        raise ValueError(
            f"'{name}' cannot name a project: use letters, digits, '-' and '_', "
            f"starting with a letter (its package would be '{package}')"
        )
    root = directory / name
    if root.exists() and any(root.iterdir()):
        raise ProjectExistsError(
            f"{root} exists and is not empty: choose another name or --directory"
        )
    for relative, text in _FILES.items():
        path = root / Template(relative).substitute(package=package)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(text).substitute(name=name, package=package), "utf-8")
    return root


_FILES = {
    "pyproject.toml": """\
[project]
name = "$name"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["dagloop[cli]"]

[tool.dagloop]
# register_pipelines() here gives `dagloop run` its pipelines by name.
pipelines = "$package.pipeline_registry"

[tool.pytest.ini_options]
pythonpath = ["src"]
""",
    "README.md": """\
# $name

A dagloop project.

    dagloop run                      # the __default__ pipeline
    dagloop run --params fetch.delay=0.2 --runner ThreadRunner
    dagloop list                     # nodes and datasets
    dagloop viz --format html -o pipeline.html
    python -m pytest                 # the project's tests

Configuration lives in `conf/base` (shared) and `conf/local` (this machine's,
credentials included; not for version control).
""",
    ".gitignore": """\
conf/local/**
!conf/local/.gitkeep
data/
__pycache__/
""",
    "conf/base/catalog.yml": """\
# Datasets by name. Anything a pipeline uses that is not listed here is kept
# in memory for the run.
quotes:
  type: json.JSONDataset
  filepath: data/quotes.json

report:
  type: text.TextDataset
  filepath: data/report.txt
""",
    "conf/base/parameters.yml": """\
# Read by nodes as params:symbols, params:fetch, params:fetch.delay, ...
symbols: [ACME, GLOBEX, INITECH]

fetch:
  delay: 0.05  # seconds each simulated request takes
""",
    "conf/local/credentials.yml": """\
# Credentials for this machine, e.g.
# api:
#   token: $${oc.env:API_TOKEN}
""",
    "conf/local/.gitkeep": "",
    "src/$package/__init__.py": '''\
"""$name: a dagloop project."""
''',
    "src/$package/pipeline.py": '''\
"""The project's pipeline: fetch quotes concurrently, then write a report."""

from __future__ import annotations

import asyncio
from typing import Any

from dagloop.pipeline import Pipeline, node, pipeline


async def fetch_quotes(symbols: list[str], fetch: dict[str, Any]) -> dict[str, float]:
    """Stands in for an HTTP API: every request waits, all at once."""

    async def quote(symbol: str) -> float:
        await asyncio.sleep(fetch["delay"])  # replace with an httpx call
        return round(sum(map(ord, symbol)) / 10, 2)

    prices = await asyncio.gather(*(quote(s) for s in symbols))
    return dict(zip(symbols, prices, strict=True))


def summarise(quotes: dict[str, float]) -> str:
    lines = [f"{symbol}: {price:.2f}" for symbol, price in sorted(quotes.items())]
    return "\\n".join([*lines, f"mean: {sum(quotes.values()) / len(quotes):.2f}"])


def create_pipeline() -> Pipeline:
    return pipeline(
        [
            node(fetch_quotes, ["params:symbols", "params:fetch"], "quotes",
                 name="fetch_quotes"),
            node(summarise, "quotes", "report", name="summarise"),
        ]
    )  # fmt: skip
''',
    "src/$package/pipeline_registry.py": '''\
"""The project's pipelines by name: `dagloop run --pipeline NAME`."""

from __future__ import annotations

from dagloop.pipeline import Pipeline

from .pipeline import create_pipeline


def register_pipelines() -> dict[str, Pipeline]:
    return {"__default__": create_pipeline()}
''',
    "tests/test_pipeline.py": """\
from dagloop.io import DataCatalog
from dagloop.runner import SequentialRunner

from $package.pipeline import create_pipeline


def test_the_report_lists_every_quote_and_their_mean():
    catalog = DataCatalog(
        {"params:symbols": ["AB", "CD"], "params:fetch": {"delay": 0}}
    )
    outputs = SequentialRunner().run(create_pipeline(), catalog)
    assert outputs["report"].load() == "AB: 13.10\\nCD: 13.50\\nmean: 13.30"
""",
}
