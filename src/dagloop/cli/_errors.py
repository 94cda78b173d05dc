"""How the command reports what went wrong.

A user's error (configuration, a pipeline that cannot be found, a filter that
selects nothing, an unknown runner or dataset type, a missing input) is one
message naming the file, key or node, and exit status 2: no traceback, since
nothing in dagloop failed. A node's own failure is its traceback, the node,
and how to resume, with exit status 1. ``DAGLOOP_TRACEBACK=1`` shows the
traceback of a user's error too.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
import threading
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import click

import dagloop
from dagloop.runner import RunTimeoutError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from dagloop.framework.project import Project

#: Exit status for a user's error, as for a usage error.
USER_ERROR = 2
#: Exit status when the run started and a node, or its deadline, failed.
RUN_FAILED = 1
#: Exit status after Ctrl-C, as shells report SIGINT.
INTERRUPTED = 130


def describe(exc: BaseException) -> str:
    """``exc``'s class and message, with its notes (dagloop's fixes)."""
    message = str(exc).strip() or "(no message)"
    notes = "".join(f"\n{note}" for note in getattr(exc, "__notes__", ()))
    return f"{type(exc).__name__}: {message}{notes}"


@contextmanager
def user_errors(
    project: Project | None, *, watch: Any = None, resume: str = ""
) -> Iterator[None]:
    """Turn what the block raises into the command's message and exit status.

    ``watch`` (the run's ``_RunWatch``) tells a node's failure from the rest;
    ``resume`` is the command to repeat with ``--from-nodes``.
    """
    try:
        yield
    except (click.ClickException, click.exceptions.Exit, SystemExit):
        raise
    except KeyboardInterrupt:
        click.echo("Interrupted: the run was stopped.", err=True)
        _exit_if_threads_remain(INTERRUPTED)
        raise SystemExit(INTERRUPTED) from None
    except Exception as exc:
        # Before a node's failure: the nodes the deadline cancelled failed too.
        if isinstance(exc, RunTimeoutError):
            click.echo(f"Error: {describe(exc)}", err=True)
            _exit_if_threads_remain(RUN_FAILED)
            raise SystemExit(RUN_FAILED) from None
        if watch is not None and watch.failed is not None:
            _node_failed(watch, exc, resume)
            _exit_if_threads_remain(RUN_FAILED, say=False)
            raise SystemExit(RUN_FAILED) from None
        if os.environ.get("DAGLOOP_TRACEBACK"):
            traceback.print_exception(exc)
        click.echo(f"Error: {describe(exc)}{_defined_in(project, exc)}", err=True)
        raise SystemExit(USER_ERROR) from None


#: Set by the console script (``main()`` with no arguments): this process is
#: the command's own, which may end at once. Code calling ``main(argv)`` in
#: its own process is never ended under it.
OWN_PROCESS = False


def _exit_if_threads_remain(status: int, *, say: bool = True) -> None:
    """Exit now if a node's thread outlived the run (its deadline, a failure
    or Ctrl-C stopped it).

    A thread cannot be interrupted: the run abandoned it, and the interpreter
    would wait for it to return before exiting, however long that takes.
    Worker processes need no waiting: they end with their parent.
    """
    if not OWN_PROCESS:
        return
    main = threading.main_thread()
    left = [t.name for t in threading.enumerate() if t is not main and not t.daemon]
    if left:
        if say:
            click.echo(
                f"Exiting without waiting for the threads the run left "
                f"({', '.join(left)}): a node's code in a thread cannot be stopped.",
                err=True,
            )
        logging.shutdown()  # flush the log handlers, as a normal exit would
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _node_failed(watch: Any, exc: BaseException, resume: str) -> None:
    failed = watch.failed
    error = failed.error or exc
    if os.environ.get("DAGLOOP_TRACEBACK"):
        traceback.print_exception(error)
    else:
        _print_user_traceback(error)
    click.echo(
        f"\nNode '{failed.node}' failed: {describe(failed.error or exc)}", err=True
    )
    if watch.resume_from:
        nodes = ",".join(watch.resume_from)
        click.echo(
            "To resume from the nearest nodes with persisted inputs:\n"
            f'  {resume} --from-nodes "{nodes}"',
            err=True,
        )
    elif watch.resume_from is not None:
        click.echo(
            "No node finished, so there is nothing to resume from: fix the error "
            "and run the same command again.",
            err=True,
        )


#: Where the engine's own frames come from: left out of a node's traceback.
_ENGINE = tuple(
    str(Path(module.__file__).parent)
    for module in (dagloop, anyio, asyncio)
    if module.__file__
)


def _print_user_traceback(error: BaseException) -> None:
    """``error``'s traceback from its first frame in the node's own code; none
    when no frame is (a dataset's failure, or a worker process's error, which
    comes back without the worker's frames): the summary says it all."""
    tb = error.__traceback__
    while tb is not None and _in_engine(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    if tb is not None:
        traceback.print_exception(type(error), error, tb)


def _in_engine(filename: str) -> bool:
    return filename.startswith(_ENGINE) or "uvloop" in filename


_DATASET = re.compile(r"dataset '([^']+)'")


def _defined_in(project: Project | None, exc: BaseException) -> str:
    """Where a dataset an error names is defined, when the catalog has it."""
    if project is None or project._loader is None:
        return ""
    match = _DATASET.search(str(exc))
    if match is None:
        return ""
    source = project.config.source("catalog", match.group(1))
    return f"\n(dataset '{match.group(1)}' is defined in {source})" if source else ""
