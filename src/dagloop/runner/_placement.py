"""Where a node's function runs: on the loop, inline, in a thread or in a process.

The scheduler never touches threads or processes itself; it asks
:meth:`Executors.call` to run a node's function, which picks the place from the
node's own ``executor`` setting or the runner's policy, enforces the node's
``timeout`` and returns the node's outputs.

* ``async def`` functions are awaited on the event loop; an optional limiter
  (``max_concurrency``) bounds how many are in flight.
* ``inline`` calls the function on the event loop thread (cheapest; blocks the loop).
* ``thread`` runs it in a worker thread behind the "dagloop-threads" limiter
  (``max_workers`` of ``ThreadRunner``). A cancelled run stops waiting for it.
* ``process`` runs it in one of the run's worker processes (``_processes``),
  at most ``max_workers`` at once. Only the function and its argument values cross the process boundary;
  the result comes back and is saved by the parent. Log records the function emits
  in the worker are forwarded to the parent's loggers. Cancelling kills the worker.

A sync node with a ``timeout`` never runs inline: a function blocking the event
loop thread could not be timed out, so it runs in a worker thread instead.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import anyio
import anyio.to_thread

from dagloop._payload import FromWorker, SideChannel, dump, load
from dagloop.io._async import in_io_thread
from dagloop.runner._errors import (
    NodeTimeoutError,
    ProcessTransferError,
    WorkerProcessError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from dagloop.pipeline.node import Node
    from dagloop.runner._processes import WorkerPool

_logger = logging.getLogger("dagloop.runner")

Kind = Literal["async", "inline", "thread", "process"]


@dataclass
class Executors:
    """The placement policy of one run and the limiters behind it."""

    default_sync: Literal["inline", "thread", "process"]
    thread_limiter: anyio.CapacityLimiter
    processes: WorkerPool
    async_limiter: anyio.CapacityLimiter | None = None
    #: Where big buffers to and from worker processes go (see ``_payload``).
    side_channel: SideChannel = field(default_factory=SideChannel)

    def kind_for(self, node: Node) -> Kind:
        """Where ``node`` runs under this policy."""
        if node.is_async:
            return "async"
        kind = node.executor or self.default_sync
        if kind == "inline" and node.timeout is not None:
            return "thread"  # so that the timeout can fire
        return kind

    async def call(
        self, node: Node, args: list[Any], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """Run one attempt of ``node``'s function; return its mapped outputs.

        Raises:
            NodeTimeoutError: When the attempt exceeds the node's ``timeout``.
            WorkerProcessError: When the worker process running it died.
            Exception: Whatever the function raised, unchanged.
        """
        timeout = node.timeout
        if timeout is None:
            return await self._call(node, args, kwargs)
        with anyio.move_on_after(timeout) as scope:
            return await self._call(node, args, kwargs)
        # Only our own deadline ends up here: an outer cancellation propagates.
        assert scope.cancelled_caught
        if self.kind_for(node) == "thread":
            _logger.warning(
                "Node '%s' timed out after %g s; a thread cannot be interrupted, so its "
                "function keeps running until it returns, and its result is discarded.",
                node.name,
                timeout,
            )
        raise NodeTimeoutError(node.name, timeout)

    async def _call(
        self, node: Node, args: list[Any], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        kind = self.kind_for(node)
        func = node.func
        if kind == "async":
            if self.async_limiter is None:
                return node._outputs_to_dictionary(await func(*args, **kwargs))
            async with self.async_limiter:
                return node._outputs_to_dictionary(await func(*args, **kwargs))
        if kind == "inline":
            return node._outputs_to_dictionary(func(*args, **kwargs))
        if kind == "thread":
            call = partial(_call_and_map, node, func, args, kwargs)
            return await anyio.to_thread.run_sync(
                call, limiter=self.thread_limiter, abandon_on_cancel=True
            )
        result = await self._in_process(node, func, args, kwargs)
        return node._outputs_to_dictionary(result)

    async def _in_process(
        self,
        node: Node,
        func: Callable[..., Any],
        args: list[Any],
        kwargs: dict[str, Any],
    ) -> Any:
        folder = self.side_channel.folder
        try:
            request = await in_io_thread(dump, (func, args, kwargs), folder)
        except Exception as exc:
            raise self._transfer_error(
                node, "its function or input values", exc
            ) from exc
        level = logging.getLogger().getEffectiveLevel()
        is_generator = node._is_generator
        try:
            status, reply, records = await self.processes.call(
                ("call", request, is_generator, level, folder)
            )
        except anyio.BrokenWorkerProcess as exc:
            raise WorkerProcessError(
                f"Node '{node.name}' was running in a worker process that died "
                f"({exc}): it was killed, crashed or ran out of memory."
            ) from exc
        except OSError as exc:
            raise WorkerProcessError(
                f"Node '{node.name}' could not start a worker process: {exc}"
            ) from exc
        _replay(records)
        if status == "unsendable":
            raise RuntimeError(
                f"Node '{node.name}' raised an exception in its worker process that "
                f"cannot be sent back to the parent (it cannot be pickled and "
                f"unpickled, or it would end the parent); as it was raised there:\n"
                f"{reply}"
            )
        if status == "unloadable":
            raise ProcessTransferError(
                f"Node '{node.name}' cannot run in a worker process: the worker could "
                f"not unpickle its function or inputs. Define the function in an "
                f"importable module (not in a notebook or `python -c`), or run the "
                f"node with executor='thread'. In the worker:\n{reply}"
            )
        if status == "unpicklable":
            raise self._transfer_error(node, "its result", reply)
        try:
            value = await in_io_thread(load, reply, FromWorker)
        except Exception as exc:
            what = "the exception it raised" if status == "raised" else "its result"
            raise self._transfer_error(node, what, exc, "unpickled here") from exc
        if status == "raised":
            raise value
        if is_generator:
            # The worker drained the generator; stream its items to the savers.
            return (item for item in value)
        return value

    @staticmethod
    def _transfer_error(
        node: Node, what: str, cause: object, how: str = "pickled"
    ) -> ProcessTransferError:
        return ProcessTransferError(
            f"Node '{node.name}' cannot run in a worker process: {what} cannot be "
            f"{how} ({cause!r}). Use a module-level function and plain data, or run "
            f"the node with executor='thread'."
        )

    async def aclose(self) -> None:
        """Stop the run's worker processes and remove the side-channel folder."""
        try:
            await self.processes.aclose()
        finally:
            self.side_channel.close()

    async def next_chunk(self, node: Node, stream: Any) -> tuple[bool, Any]:
        """The next item of an output stream, run where the node runs.

        A generator's body is user code: iterating it in a thread node must not
        block the loop. Returns ``(False, None)`` at the end of the stream.
        """
        if self.kind_for(node) == "thread":
            return await anyio.to_thread.run_sync(
                _next, stream, limiter=self.thread_limiter, abandon_on_cancel=True
            )
        return _next(stream)


def _unwrap(func: Any) -> Any:
    while isinstance(func, partial):
        func = func.func
    return func


def _call_and_map(
    node: Node, func: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]
) -> dict[str, Any]:
    # In the worker thread: a generator's first item is produced here too.
    return node._outputs_to_dictionary(func(*args, **kwargs))


def _next(stream: Any) -> tuple[bool, Any]:
    try:
        return True, next(stream)
    except StopIteration:
        return False, None


def _replay(records: list[logging.LogRecord]) -> None:
    """Hand worker log records to the parent's loggers (their levels and handlers)."""
    for record in records:
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)
