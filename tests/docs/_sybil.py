"""How README.md's and docs/*.md's code blocks run (collected by conftest.py).

The blocks of one file run in order and share one namespace, so a later block uses
the names an earlier one defined; ``<!-- invisible-code-block: python ... -->``
comments hold the little a block needs that the page need not show (a stand-in
for the reader's own pipeline, say). A block skipped on purpose says why beside
its ``<!-- skip: next "reason" -->`` directive in the Markdown source.

Each file runs in a temporary working directory of its own, on the import path
(as a project's folder is for a script run from it), so the files a block writes
(``data/01_raw/cars.csv``, ...) never land in the repository. A ```yaml block
is checked to parse, and the files its comment lines name (``# catalog.yml``)
are written there, for a later block to load as a reader would.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import logging
import os
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from sybil import Sybil
from sybil.evaluators.python import pad
from sybil.parsers.markdown import CodeBlockParser, SkipParser

if TYPE_CHECKING:
    from sybil import Example

ROOT = Path(__file__).resolve().parents[2]


def documents() -> list[Path]:
    """README.md, then docs/*.md by name: every document whose blocks must run."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def evaluate_python(example: Example) -> None:
    """Run a block; one with a top-level ``await`` runs as a notebook cell would.

    Such blocks show code that lives inside an async function (a FastAPI handler,
    an ``asyncio.run`` script); compiled as ``python -m asyncio`` and Jupyter
    compile a cell, they run as written, on an event loop of their own.
    """
    __tracebackhide__ = True
    source = pad(example.parsed, example.line + example.parsed.line_offset)
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    code = compile(source, example.path, "exec", flags=flags, dont_inherit=True)
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, example.namespace))
    else:
        exec(code, example.namespace)
    example.namespace.pop("__builtins__", None)


#: A YAML comment line naming a file: ``# catalog.yml``, ``# conf/base/globals.yml``.
YAML_FILE = re.compile(r"^#\s*(?P<name>[\w./-]+\.ya?ml)\s*$")


def write_yaml(example: Example) -> None:
    """Check that a ```yaml block parses; write the files its comment lines name.

    A block may show several files, each headed by a comment line naming it
    (``# catalog.yml`` ... ``# credentials.yml``): each part goes to its file.
    """
    name, lines = None, []
    for line in [*str(example.parsed).splitlines(keepends=True), "# end.yml"]:
        header = YAML_FILE.match(line)
        if header is None:
            lines.append(line)
            continue
        part = "".join(lines)
        yaml.safe_load(part)
        if name is not None:
            Path(name).parent.mkdir(parents=True, exist_ok=True)
            Path(name).write_text(part, encoding="utf-8")
        name, lines = header["name"], [line]


@dataclass
class _Saved:
    """What a document's blocks may change in this process, to put back after."""

    cwd: str
    sys_path: list[str]
    root_level: int
    root_handlers: list[logging.Handler]
    tmp: tempfile.TemporaryDirectory[str]


_saved: dict[int, _Saved] = {}


def enter_document(namespace: dict[str, Any]) -> None:
    """Before a document's first block: work in a fresh temporary directory."""
    root = logging.getLogger()
    tmp = tempfile.TemporaryDirectory(prefix="dagloop-docs-")
    _saved[id(namespace)] = _Saved(
        os.getcwd(), list(sys.path), root.level, list(root.handlers), tmp
    )
    os.chdir(tmp.name)
    sys.path.insert(0, tmp.name)


def leave_document(namespace: dict[str, Any]) -> None:
    """After a document's last block: undo what its blocks did to the process."""
    saved = _saved.pop(id(namespace))
    os.chdir(saved.cwd)
    sys.path[:] = saved.sys_path
    root = logging.getLogger()
    root.setLevel(saved.root_level)
    root.handlers[:] = saved.root_handlers
    _reset_tracer_provider()
    # Modules a block imported from its temporary folder (a project that
    # `dagloop new` made there): gone with the folder.
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(saved.tmp.name):
            del sys.modules[name]
    saved.tmp.cleanup()


def _reset_tracer_provider() -> None:
    """Shut down a tracer provider a block set, and unset it.

    OpenTelemetry lets a process set its global provider once, and the rest of the
    suite must run untraced (tests/runner/test_tracing.py sets one in child
    interpreters); OpenTelemetry's own test utilities reset it the same way.
    """
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None or trace._TRACER_PROVIDER is None:
        return
    shutdown = getattr(trace._TRACER_PROVIDER, "shutdown", None)
    if shutdown is not None:
        shutdown()
    from opentelemetry.util._once import Once

    trace._TRACER_PROVIDER = None
    trace._TRACER_PROVIDER_SET_ONCE = Once()


DOCS = Sybil(
    parsers=[
        CodeBlockParser("python", evaluate_python),
        CodeBlockParser("yaml", write_yaml),
        SkipParser(),
    ],
    path=str(ROOT),
    setup=enter_document,
    teardown=leave_document,
    fixtures=["docs_http_server"],
)
