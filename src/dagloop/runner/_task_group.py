"""The task group a concurrent run spawns its node tasks in.

Every node that runs concurrently needs its own task. AnyIO's task group costs
about 32 us per task here, ``asyncio.TaskGroup`` about 4 us (5,000 no-op tasks,
uvloop); on a fan-out of hundreds of short async nodes that difference is most
of the engine's overhead. So on asyncio node tasks go into an
``asyncio.TaskGroup`` — structured concurrency all the same: the group waits for
every task, a cancelled host cancels them all, and AnyIO code inside the tasks
(threads, processes, limiters) works as in any task — and on other backends
(trio) into AnyIO's task group.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from dagloop._bridge import on_asyncio

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine


class Spawner(Protocol):
    """Starts tasks in a run's task group, and cancels them all."""

    def start(self, func: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> None:
        """Start ``func(*args)`` as a new task of the group."""
        ...

    def cancel(self) -> None:
        """Cancel every task still running in the group."""
        ...


class _AsyncioSpawner:
    def __init__(self, group: asyncio.TaskGroup) -> None:
        self._group = group
        # Started tasks, so ``cancel`` can reach them (asyncio.TaskGroup has no
        # cancel of its own before Python 3.14's). Finished ones are dropped when
        # the list has doubled since the last sweep: amortised O(1) per task, and
        # no done-callback per task (each costs a loop callback when it finishes).
        self._started: list[asyncio.Task[None]] = []
        self._sweep_at = 64

    def start(self, func: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> None:
        started = self._started
        started.append(self._group.create_task(func(*args)))
        if len(started) >= self._sweep_at:
            started[:] = [task for task in started if not task.done()]
            self._sweep_at = max(64, 2 * len(started))

    def cancel(self) -> None:
        for task in self._started:
            task.cancel()  # a finished task ignores it


class _AnyioSpawner:
    def __init__(self, group: anyio.abc.TaskGroup) -> None:
        self._group = group

    def start(self, func: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> None:
        self._group.start_soon(func, *args)

    def cancel(self) -> None:
        self._group.cancel_scope.cancel()


@asynccontextmanager
async def node_task_group() -> AsyncIterator[Spawner]:
    """A task group for node tasks; exits once every task has finished."""
    if on_asyncio():
        async with asyncio.TaskGroup() as group:
            yield _AsyncioSpawner(group)
    else:
        async with anyio.create_task_group() as anyio_group:
            yield _AnyioSpawner(anyio_group)
