"""One self-contained HTML page: markup, style and script inline, nothing fetched.

The style sheet and scripts live beside this module (``_static/``) as plain
files, so they can be read and linted as what they are; they are inlined into
every page, which then works offline, from a file, an e-mail or a CI artifact.
"""

from __future__ import annotations

import json
import re
from functools import cache
from html import escape
from importlib.resources import files
from typing import Any


@cache
def static(name: str) -> str:
    """The text of ``_static/<name>``."""
    return (files("dagloop.viz") / "_static" / name).read_text(encoding="utf-8")


def page(title: str, body: str, script: str, data: Any) -> str:
    """A whole page: ``body`` (markup), ``data`` for ``script`` (as JSON in a
    ``<script type="application/json" id="data">``), the shared style sheet."""
    # With <, > and & as JSON escapes, no text in the data (a name, an error
    # message) can end the script element or open a comment in it.
    payload = (
        json.dumps(data, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        f"<style>\n{static('page.css')}</style>\n"
        "</head>\n<body>\n"
        f"{body}\n"
        f'<script type="application/json" id="data">{payload}</script>\n'
        f"<script>\n{static(script)}</script>\n"
        "</body>\n</html>\n"
    )


def text(value: object) -> str:
    """``value`` as text safe in HTML and SVG content and attributes: escaped,
    and without the control characters XML forbids (an SVG file with one is
    not shown at all), such as a terminal colour code in an error message."""
    return escape(_CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(value)), quote=True)


#: Characters XML 1.0 does not allow, even escaped.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def number(value: float) -> str:
    """A coordinate, short: SVG needs no more than a tenth of a pixel."""
    return f"{value:.1f}".rstrip("0").rstrip(".")
