"""Where a node's function runs: one small class per place.

The scheduler never touches threads or processes itself: the run's
:class:`Placements` picks each node's :class:`Placement` (from the node's own
``executor`` setting or the runner's policy), whose ``attempt`` calls the
function there within the node's ``timeout`` and returns the node's outputs.

* ``async`` — ``async def`` functions, awaited on the event loop; an optional
  limiter (``max_concurrency``) bounds how many are in flight.
* ``inline`` — on the event loop thread (cheapest; blocks the loop).
* ``thread`` — in a worker thread behind the run's thread limiter (``max_workers``
  of ``ThreadRunner``). A cancelled run stops waiting for it.
* ``process`` — in a warm worker process of the run's :class:`WorkerPool`, at most
  ``max_workers`` at once. Only the function and its argument values cross the
  process boundary; the result comes back and is saved by the parent. Log records
  the function emits there are replayed to the parent's loggers. Cancelling kills
  the worker.

A new place is one new subclass of :class:`Placement` with its own ``name``.

A sync node with a ``timeout``, or any sync node of a run with a deadline, never
runs inline: a function blocking the event loop thread could not be stopped, so
it runs in a worker thread instead.
"""

from __future__ import annotations

import logging
import pickle
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

import anyio
import anyio.to_thread

from dagloop._workers.call import call_in_worker
from dagloop.runner._errors import NodeTimeoutError
from dagloop.runner._events import note_thread, note_worker

if TYPE_CHECKING:
    from collections.abc import Awaitable, Iterable

    from dagloop._workers.pool import WorkerPool
    from dagloop.pipeline.node import Node

__all__ = [
    "AsyncPlacement",
    "InlinePlacement",
    "Placement",
    "Placements",
    "ProcessPlacement",
    "ThreadPlacement",
    "check_picklable",
]

_logger = logging.getLogger("dagloop.runner")


class Placement(ABC):
    """A place where node functions run, with what one run needs there."""

    #: How nodes and runners refer to this place (``executor="thread"``).
    name: ClassVar[str]
    #: Whether a call in flight here stops when cancelled; otherwise it is
    #: abandoned (it finishes on its own and its result is discarded).
    interruptible: ClassVar[bool] = True
    #: Whether values cross to it by pickling (memory datasets need not copy).
    copies_values: ClassVar[bool] = False
    #: Whether its calls run on the event loop's own thread.
    on_loop: ClassVar[bool] = False
    #: Whether it takes and returns handles to data kept elsewhere (a cluster's
    #: futures) rather than the data: its nodes load through
    #: ``CatalogIO.load_handle``.
    remote: ClassVar[bool] = False
    #: Whether it can run generator nodes (item by item); if not, they run in a
    #: thread.
    runs_generators: ClassVar[bool] = True
    #: Slots for whole node runs here (inputs, call, outputs), taken before a
    #: node starts: a node waiting for room has loaded nothing and is not
    #: reported as started. ``None``: nodes start at once.
    admission: anyio.CapacityLimiter | None = None

    @abstractmethod
    async def call(
        self, node: Node, args: list[Any], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """Call ``node``'s function here once; return its outputs by name."""

    def attempt(
        self, node: Node, args: list[Any], kwargs: dict[str, Any]
    ) -> Awaitable[dict[str, Any]]:
        """One attempt of ``node``'s function here, within the node's ``timeout``.

        Awaiting it raises:
            NodeTimeoutError: When the attempt exceeds the node's ``timeout``.
            WorkerProcessError: When the worker process running it died.
            Exception: Whatever the function raised, unchanged.
        """
        timeout = node._controls.timeout
        if timeout is None:  # the common case: no coroutine of its own
            return self.call(node, args, kwargs)
        return self._attempt_within(node, args, kwargs, timeout)

    async def _attempt_within(
        self, node: Node, args: list[Any], kwargs: dict[str, Any], seconds: float
    ) -> dict[str, Any]:
        with anyio.move_on_after(seconds) as scope:
            return await self.call(node, args, kwargs)
        # Only our own deadline ends up here: an outer cancellation propagates.
        assert scope.cancelled_caught
        if not self.interruptible:
            _logger.warning(
                "Node '%s' timed out after %g s; a thread cannot be interrupted, so its "
                "function keeps running until it returns, and its result is discarded.",
                node.name,
                seconds,
            )
        raise NodeTimeoutError(node.name, seconds)

    async def next_item(self, stream: Any) -> tuple[bool, Any]:
        """The next item of a generator node's output; ``(False, None)`` at its end.

        A generator's body is user code: it runs where the node runs.
        """
        return _next(stream)


class AsyncPlacement(Placement):
    """``async def`` functions, awaited on the event loop."""

    name = "async"
    on_loop = True

    def __init__(self, limiter: anyio.CapacityLimiter | None) -> None:
        """``limiter``: at most that many ``async def`` nodes at once, if any."""
        self.admission = limiter

    async def call(
        self, node: Node, args: list[Any], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        if node._is_stream:  # its items are fed to the stream's readers
            return node._outputs_to_dictionary(node.func(*args, **kwargs))
        return node._outputs_to_dictionary(await node.func(*args, **kwargs))


class InlinePlacement(Placement):
    """Sync functions called on the event loop thread."""

    name = "inline"
    on_loop = True

    async def call(
        self, node: Node, args: list[Any], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        return node._outputs_to_dictionary(node.func(*args, **kwargs))


class ThreadPlacement(Placement):
    """Sync functions in worker threads, at most ``limiter``'s tokens at once."""

    name = "thread"
    interruptible = False

    def __init__(self, limiter: anyio.CapacityLimiter, *, admit: bool = True) -> None:
        """At most ``limiter``'s tokens of threads at once.

        The threads hold the limiter's tokens (a thread abandoned on
        cancellation keeps its token until it returns); with ``admit``, as many
        whole node runs are admitted (not worth taking where nodes run one at
        a time anyway).
        """
        self._limiter = limiter
        if admit:
            self.admission = anyio.CapacityLimiter(limiter.total_tokens)

    async def call(
        self, node: Node, args: list[Any], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        # A generator's first item is produced in the thread too.
        return await anyio.to_thread.run_sync(
            _call_and_map,
            node,
            args,
            kwargs,
            limiter=self._limiter,
            abandon_on_cancel=True,
        )

    async def next_item(self, stream: Any) -> tuple[bool, Any]:
        return await anyio.to_thread.run_sync(
            _next, stream, limiter=self._limiter, abandon_on_cancel=True
        )


class ProcessPlacement(Placement):
    """Sync functions in warm worker processes of ``pool``, ``limiter`` at once."""

    name = "process"
    copies_values = True

    def __init__(self, pool: WorkerPool, limiter: anyio.CapacityLimiter) -> None:
        """At most ``limiter``'s tokens of this run's nodes in ``pool`` at once."""
        self.pool = pool
        self.admission = limiter

    async def call(
        self, node: Node, args: list[Any], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        result = await call_in_worker(
            self.pool,
            node.name,
            node.func,
            args,
            kwargs,
            is_generator=node._is_generator,
            note_worker=note_worker,
        )
        return node._outputs_to_dictionary(result)


class Placements:
    """The places one run's nodes go to, and the run's rule for choosing."""

    def __init__(
        self, default_sync: str, places: Iterable[Placement], *, deadline: bool
    ) -> None:
        """Set up the run's places.

        Args:
            default_sync: Where sync nodes run unless they say otherwise.
            places: One instance of each place the run can use.
            deadline: The run has a deadline: no sync node may block the loop.
        """
        self.by_name = {place.name: place for place in places}
        self._default_sync = default_sync
        self._deadline = deadline
        self._async = self.by_name["async"]

    def for_node(self, node: Node) -> Placement:
        """Where ``node`` runs in this run."""
        if node.is_async:
            return self._async
        controls = node._controls  # not the properties: this is per node
        if node._is_stream:  # a sync producer's items are made in a thread,
            return self.by_name["thread"]  # one by one (never a worker's whole)
        name = controls.executor or self._default_sync
        if name == "inline" and (self._deadline or controls.timeout is not None):
            name = "thread"  # so that the deadline can fire
        place = self.by_name[name]
        if node._is_generator and not place.runs_generators:
            return self.by_name["thread"]
        return place


def _call_and_map(
    node: Node, args: list[Any], kwargs: dict[str, Any]
) -> dict[str, Any]:
    note_thread()
    return node._outputs_to_dictionary(node.func(*args, **kwargs))


def _next(stream: Any) -> tuple[bool, Any]:
    try:
        return True, next(stream)
    except StopIteration:
        return False, None


def _pickles(func: Any) -> bool:
    """Whether ``func`` can be sent to a worker (pickled, as the worker gets it)."""
    try:
        pickle.dumps(func)
    except (AttributeError, pickle.PicklingError, TypeError):
        return False
    return True


def check_picklable(nodes: Iterable[Node]) -> None:
    """Raise Kedro's error listing the ``nodes`` whose function cannot be pickled.

    Raises:
        AttributeError: When there are any.
    """
    unserialisable = [n for n in nodes if not _pickles(n.func)]
    if unserialisable:
        raise AttributeError(
            f"The following nodes cannot be serialised: {sorted(unserialisable)}\n"
            f"In order to utilize multiprocessing you need to make sure all nodes "
            f"are serialisable, i.e. nodes should not include lambda "
            f"functions, nested functions, closures, etc.\nIf you "
            f"are using custom decorators ensure they are correctly decorated using "
            f"functools.wraps()."
        )
