"""``progress=True``: a run's progress on the console, read from its events.

On a terminal, a rich progress bar (nodes done / total, the nodes running now,
elapsed time and an estimate of what is left); elsewhere (a log file, CI, a
notebook), one plain line per finished node. Both go to standard error, where
logs go. rich is an optional extra (``dagloop[progress]``), imported only when a
bar is drawn; without it a terminal gets the plain lines too.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import TYPE_CHECKING, Any, TextIO

from dagloop._text import error_line

if TYPE_CHECKING:
    from dagloop.runner._events import RunEvent

#: Names of running nodes shown next to the bar; the rest are counted.
_SHOWN_RUNNING = 3


class ProgressObserver:
    """Shows one run's progress; an observer of its events (see ``_events``).

    Events come from the thread running the run. The bar's own refresh thread
    (rich's) starts with the run's first event and is stopped by :meth:`close`,
    which every run calls however it ends.
    """

    def __init__(self, out: TextIO | None = None) -> None:
        """Show progress on ``out`` (standard error by default)."""
        self._out = out if out is not None else sys.stderr
        self._total: int | None = None
        self._done = 0
        #: Running nodes, in the order they started (a dict as an ordered set).
        self._running: dict[str, None] = {}
        self._bar: _Bar | None = None
        self._terminal = _is_terminal(self._out)

    def __repr__(self) -> str:
        return "the progress display"

    def put(self, event: RunEvent) -> None:
        """Update the display with ``event``."""
        kind = event.kind
        if kind.startswith("dataset"):
            return
        if kind == "run_started":
            self._total = event.nodes
            if self._terminal:
                self._bar = _Bar.claim(self._out, event.nodes)
            return
        name = event.node or ""
        if kind == "node_started":
            self._running[name] = None
            self._show_running()
        elif kind == "node_finished":
            self._running.pop(name, None)
            self._done += 1
            if self._bar is not None:
                self._bar.advance(self._running_text())
            else:
                self._line(
                    f"{self._count()} node '{name}' finished in "
                    f"{_seconds(event.duration)} ({event.placement})"
                )
        elif kind == "node_failed":
            self._running.pop(name, None)
            self._show_running()
            self._line(
                f"{self._count()} node '{name}' stopped after "
                f"{_seconds(event.duration)}: the run was cancelled"
                if _cancelled(event.error)
                else f"{self._count()} node '{name}' failed after "
                f"{_seconds(event.duration)}: {error_line(event.error)}"
            )
        elif kind == "node_retrying":
            self._line(
                f"{self._count()} node '{name}' failed on attempt {event.attempt} "
                f"({error_line(event.error)}); retrying"
            )
        elif kind == "run_finished":
            self._line(
                f"Run finished: {self._done} node{'s' * (self._done != 1)} in "
                f"{_seconds(event.duration)}."
            )
        elif kind == "run_failed":
            self._line(
                f"Run stopped after {_seconds(event.duration)}: "
                f"{self._count(bare=True)} nodes finished (cancelled)."
                if _cancelled(event.error)
                else f"Run failed after {_seconds(event.duration)}: "
                f"{self._count(bare=True)} nodes finished ({error_line(event.error)})."
            )

    def close(self) -> None:
        """The run is over: stop the bar, leaving its last state on screen."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def _count(self, bare: bool = False) -> str:
        total = "?" if self._total is None else str(self._total)
        count = f"{self._done}/{total}"
        return count if bare else f"[{count}]"

    def _running_text(self) -> str:
        names = list(self._running)
        shown = ", ".join(names[:_SHOWN_RUNNING])
        more = len(names) - _SHOWN_RUNNING
        return f"{shown} +{more} more" if more > 0 else shown

    def _show_running(self) -> None:
        if self._bar is not None:
            self._bar.running(self._running_text())

    def _line(self, text: str) -> None:
        if self._bar is not None:
            self._bar.print(text)
        else:
            print(text, file=self._out, flush=True)


class _Bar:
    """rich's progress bar, behind the four calls the observer makes."""

    def __init__(self, progress: Any, task: Any) -> None:
        self._progress = progress
        self._task = task

    @classmethod
    def claim(cls, out: TextIO, total: int | None) -> _Bar | None:
        """A started bar on ``out``; ``None`` without rich, or while another
        run's bar is on screen (two live bars would draw over each other: the
        later run prints plain lines, which rich shows above the first bar)."""
        global _bar_shown
        with _bar_lock:
            if _bar_shown:
                return None
            _bar_shown = True
        bar = cls._create(out, total)
        if bar is None:
            with _bar_lock:
                _bar_shown = False
        return bar

    @classmethod
    def _create(cls, out: TextIO, total: int | None) -> _Bar | None:
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
        except ImportError:
            return None
        progress = Progress(
            SpinnerColumn(),
            TextColumn("nodes"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[running]}", style="cyan"),
            console=Console(file=out),
        )
        task = progress.add_task("run", total=total, running="")
        progress.start()  # starts rich's refresh thread; stop() joins it
        return cls(progress, task)

    def advance(self, running: str) -> None:
        self._progress.update(self._task, advance=1, running=running)

    def running(self, running: str) -> None:
        self._progress.update(self._task, running=running)

    def print(self, text: str) -> None:
        self._progress.console.print(text, markup=False, highlight=False)

    def stop(self) -> None:
        """Stop the bar and its refresh thread; the next run may show one."""
        global _bar_shown
        try:
            self._progress.update(self._task, running="")
            self._progress.stop()
        finally:
            with _bar_lock:
                _bar_shown = False


#: Whether a run's bar is on screen; runs in other threads check it (the lock).
_bar_shown = False
_bar_lock = threading.Lock()


def _is_terminal(out: TextIO) -> bool:
    """Whether ``out`` is a terminal a bar can be drawn on (rich is imported
    only for a terminal)."""
    isatty = getattr(out, "isatty", None)
    if not (isatty and isatty()):
        return False
    try:
        from rich.console import Console
    except ImportError:
        return True  # plain lines then, but a terminal still
    return Console(file=out).is_terminal  # rich's own test: TERM=dumb and the like


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:.3g} s" if value < 10 else f"{value:.1f} s"


def _cancelled(error: BaseException | None) -> bool:
    """Whether a node ended because the run was cancelled (its deadline, the
    caller, another node's failure), not by an error of its own: asyncio's or
    trio's cancellation, whose message is an internal scope id."""
    if isinstance(error, asyncio.CancelledError):
        return True
    return (
        type(error).__module__.startswith("trio")
        and type(error).__name__ == "Cancelled"
    )
