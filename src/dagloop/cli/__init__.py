"""The ``dagloop`` command: ``run``, ``list``, ``viz`` and ``new``.

A thin shell over :class:`dagloop.framework.project.Project` and the runners.
The command line needs the ``dagloop[cli]`` extra (click, OmegaConf); this
module imports them only when the command starts, and says what to install
when they are missing.
"""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Run the ``dagloop`` command with ``argv`` (default: ``sys.argv[1:]``)."""
    try:
        from dagloop.cli import _errors
        from dagloop.cli._app import cli
    except ImportError as exc:
        if exc.name not in ("click", "omegaconf", "yaml"):
            raise
        print(
            f"dagloop's command line needs {exc.name}: pip install 'dagloop[cli]'",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    _errors.OWN_PROCESS = argv is None  # the console script, python -m dagloop
    args = sys.argv[1:] if argv is None else list(argv)
    cli.main(args=args, prog_name="dagloop", obj=args)  # obj: the resume hint's
