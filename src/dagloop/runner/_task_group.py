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
        # Running tasks, so ``cancel`` can reach them (asyncio.TaskGroup has no
        # cancel of its own before Python 3.14's); each removes itself when done.
        self._running: set[asyncio.Task[None]] = set()

    def start(self, func: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> None:
        task = self._group.create_task(func(*args))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    def cancel(self) -> None:
        for task in list(self._running):
            task.cancel()


class _AnyioSpawner:
    def __init__(self, group: anyio.abc.TaskGroup) -> None:
        self._group = group

    def start(self, func: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> None:
        self._group.start_soon(func, *args)

    def cancel(self) -> None:
        self._group.cancel_scope.cancel()


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the documented signal: no asyncio loop in this thread
        return False
    return True


@asynccontextmanager
async def node_task_group() -> AsyncIterator[Spawner]:
    """A task group for node tasks; exits once every task has finished."""
    if _on_asyncio():
        async with asyncio.TaskGroup() as group:
            yield _AsyncioSpawner(group)
    else:
        async with anyio.create_task_group() as anyio_group:
            yield _AnyioSpawner(anyio_group)
