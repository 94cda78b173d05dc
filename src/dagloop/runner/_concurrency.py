"""The first failure wins: one rule for every group of concurrent work.

Errors from node code must reach the caller unchanged, never wrapped in an
``ExceptionGroup``. A :class:`FirstFailure` keeps the first exception raised in a
group of tasks and cancels the group; failures that happen while the group stops
become notes on it (the first few spelled out, the rest counted), and the first
is raised itself once the group has exited. The scheduler (node failures), node
I/O (concurrent loads and saves) and the Ctrl-C watcher all use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

#: How many later failures are spelled out in the raised error's notes.
NOTED_FAILURES = 3


class FirstFailure:
    """Records the failures of one group of tasks; the first one is raised."""

    def __init__(self, cancel: Callable[[], None]) -> None:
        """Start recording.

        Args:
            cancel: Cancels the rest of the group (called at the first failure).
        """
        self._cancel = cancel
        self.first: Exception | None = None
        self._later: list[tuple[str, Exception]] = []

    def record(self, exc: Exception, where: str = "") -> None:
        """Keep ``exc``: as the failure if it is the first, else as a note.

        Args:
            exc: The exception a task raised.
            where: What failed, for the note (e.g. "Node 'x'").
        """
        if self.first is None:
            self.first = exc
            self._cancel()
        else:
            self._later.append((where, exc))

    def raise_first(self) -> None:
        """Raise the first failure, with the later ones as notes (if any failed)."""
        first = self.first
        if first is None:
            return
        for where, exc in self._later[:NOTED_FAILURES]:
            subject = where or "Another task"
            first.add_note(f"{subject} also failed while the run was stopping: {exc!r}")
        hidden = len(self._later) - NOTED_FAILURES
        if hidden > 0:
            first.add_note(f"... and {hidden} more failed while the run was stopping.")
        self._later.clear()
        raise first


async def run_all(jobs: Sequence[Callable[[], Awaitable[Any]]]) -> None:
    """Await every job concurrently; raise the first failure unchanged.

    Raises:
        Exception: The first exception a job raised (the others are cancelled).
    """
    async with anyio.create_task_group() as group:
        failures = FirstFailure(group.cancel_scope.cancel)

        async def guarded(job: Callable[[], Awaitable[Any]]) -> None:
            try:
                await job()
            except Exception as exc:
                failures.record(exc)

        for job in jobs:
            group.start_soon(guarded, job)
    failures.raise_first()
