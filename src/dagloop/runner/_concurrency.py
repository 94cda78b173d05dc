"""Running a few coroutines at once with first-failure semantics.

Errors from node code must reach the caller unchanged, never wrapped in an
``ExceptionGroup``. :func:`run_all` runs coroutines in one task group, records the
first exception, cancels the others and re-raises that exception itself once the
group has exited; later ones are attached as notes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence


async def run_all(jobs: Sequence[Callable[[], Awaitable[Any]]]) -> None:
    """Await every job concurrently; raise the first failure unchanged.

    Raises:
        Exception: The first exception a job raised (the others are cancelled).
    """
    failures: list[Exception] = []

    async def guarded(
        job: Callable[[], Awaitable[Any]], group: anyio.abc.TaskGroup
    ) -> None:
        try:
            await job()
        except Exception as exc:
            failures.append(exc)
            group.cancel_scope.cancel()

    async with anyio.create_task_group() as group:
        for job in jobs:
            group.start_soon(guarded, job, group)
    if failures:
        first = failures[0]
        for other in failures[1:]:
            first.add_note(f"Also failed at the same time: {other!r}")
        raise first
