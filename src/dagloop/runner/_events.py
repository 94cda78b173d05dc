"""Run events: one stream of what a run does, whatever runs it and wherever.

The scheduler and the node runner *emit*; observers (``stream()``, ``on_event``
callbacks, and later progress bars, pictures and tracing) *subscribe*. With no
subscriber, emitting costs one attribute check per emission point: the hot path
is unchanged.

Delivery policy (one per subscriber): events are queued in order and never
block the run. A subscriber more than ``capacity`` events behind loses new
``dataset_loaded`` / ``dataset_saved`` events (counted in ``dropped``); run and
node events are always kept — there are at most a few per node, so memory stays
bounded by the pipeline's size. Chosen so that a slow consumer sees every node's
fate (what a progress display or a client needs) and costs the run nothing.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from contextvars import ContextVar
from dataclasses import dataclass
from time import perf_counter
from typing import TYPE_CHECKING, Any, Literal, Protocol

import anyio

from dagloop._bridge import loop_call_soon

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["EventKind", "RunEvent"]

_logger = logging.getLogger("dagloop.runner")

EventKind = Literal[
    "run_started",
    "node_started",
    "node_finished",
    "node_failed",
    "node_retrying",
    "dataset_loaded",
    "dataset_saved",
    "run_finished",
    "run_failed",
]

#: Kinds a lagging subscriber may lose (see the module's delivery policy).
_LOSSY = frozenset({"dataset_loaded", "dataset_saved"})

#: Events a subscriber holds before it starts dropping dataset events.
DEFAULT_CAPACITY = 10_000


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One thing that happened in a run.

    Attributes:
        kind: What happened (see :data:`EventKind`).
        run_id: The run's id: the ``run_id`` given to ``run()``/``arun()``, or
            one dagloop made up (a uuid4 hex string).
        at: Seconds since the run started.
        node: The node's name, for node and dataset events (``None`` for a
            dataset loaded or saved outside any node, and for run events).
        dataset: The dataset's name, for dataset events.
        placement: Where the node ran: ``"async"``, ``"inline"``, ``"thread"``,
            ``"process"`` (or a later placement's name).
        worker: The thread's name, or the worker process's pid.
        duration: Seconds, on ``node_finished``, ``node_failed``,
            ``dataset_loaded``, ``dataset_saved``, ``run_finished`` and
            ``run_failed``.
        attempt: The node's attempt, from 1 (``node_retrying``: the attempt
            that failed).
        error: The exception, on ``node_failed``, ``node_retrying`` and
            ``run_failed``.
    """

    kind: EventKind
    run_id: str
    at: float
    node: str | None = None
    dataset: str | None = None
    placement: str | None = None
    worker: str | int | None = None
    duration: float | None = None
    attempt: int | None = None
    error: BaseException | None = None


class Observer(Protocol):
    """Receives a run's events, in order, from the thread running the run."""

    def put(self, event: RunEvent) -> None:
        """Take one event (quickly: the run waits meanwhile)."""
        ...

    def close(self) -> None:
        """The run is over: no more events."""
        ...


class CallbackObserver:
    """``on_event=``: a plain callable, called as each event happens.

    Called on the thread running the run, between the run's steps: a live view,
    as a logging handler gets. If it raises, the error is logged (a warning
    with its traceback), it gets no further events of that run, and the run
    goes on: an observer never fails a run.
    """

    def __init__(self, callback: Callable[[RunEvent], Any]) -> None:
        """Wrap ``callback``."""
        self._callback: Callable[[RunEvent], Any] | None = callback

    def put(self, event: RunEvent) -> None:
        """Call the callback with ``event``."""
        if self._callback is None:
            return
        try:
            self._callback(event)
        except Exception:
            _logger.warning(
                "The on_event callback %r raised on a '%s' event; it gets no further "
                "events of run %s.",
                self._callback,
                event.kind,
                event.run_id,
                exc_info=True,
            )
            self._callback = None

    def close(self) -> None:
        """Nothing to flush."""


class Subscriber:
    """One observer's queue of events, read with ``async for`` on its loop.

    Events may be put from any thread (a run moved to a loop of its own); they
    reach the queue in order, on the subscriber's loop.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        """Subscribe from the loop that will read the events."""
        self._capacity = capacity
        self._items: deque[RunEvent] = deque()
        self._closed = False
        self._wakeup: anyio.Event | None = None
        self._thread = threading.get_ident()
        self._call_soon = loop_call_soon()
        #: Dataset events lost because this subscriber lagged (see module doc).
        self.dropped = 0

    def put(self, event: RunEvent) -> None:
        """Queue ``event`` (from any thread)."""
        if threading.get_ident() == self._thread:
            self._put(event)
        else:
            self._call_soon(self._put, event)

    def close(self) -> None:
        """No more events will come (from any thread)."""
        if threading.get_ident() == self._thread:
            self._close()
        else:
            self._call_soon(self._close)

    def _put(self, event: RunEvent) -> None:
        if self._closed:
            return
        if len(self._items) >= self._capacity and event.kind in _LOSSY:
            self.dropped += 1
            return
        self._items.append(event)
        self._wake()

    def _close(self) -> None:
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None

    async def next_batch(self) -> list[RunEvent]:
        """The events queued since the last call (waiting for one if there is
        none); an empty list once closed and drained."""
        while not self._items and not self._closed:
            self._wakeup = anyio.Event()
            await self._wakeup.wait()
        batch = list(self._items)
        self._items.clear()
        return batch


class RunEvents:
    """Emits one run's events to its observers (emitters run on the run's loop)."""

    def __init__(self, run_id: str, observers: tuple[Observer, ...]) -> None:
        """Start the run's clock."""
        self.run_id = run_id
        self._observers = observers
        self._start = perf_counter()
        #: The name of the thread running the run's loop (where async and
        #: inline nodes run).
        self.loop_thread = threading.current_thread().name

    def now(self) -> float:
        """Seconds since the run started."""
        return perf_counter() - self._start

    def emit(self, kind: EventKind, **fields: Any) -> None:
        """Send one event to every subscriber."""
        event = RunEvent(kind, self.run_id, self.now(), **fields)
        for observer in self._observers:
            observer.put(event)

    def close(self) -> None:
        """The run is over: every observer is told (a stream ends once drained)."""
        for observer in self._observers:
            observer.close()


class Attempt:
    """Where the current node attempt runs, noted by the placement that runs it."""

    __slots__ = ("number", "worker")

    def __init__(self, worker: str | int | None) -> None:
        self.worker = worker
        self.number = 1


#: The attempt the current node task is making, when someone listens to events.
_attempt: ContextVar[Attempt | None] = ContextVar("dagloop_attempt", default=None)


def note_worker(pid: int) -> None:
    """Record the worker process running the current attempt (if anyone listens)."""
    attempt = _attempt.get()
    if attempt is not None:
        attempt.worker = pid


def note_thread() -> None:
    """Record the current thread as running the current attempt (if anyone
    listens). Called in the worker thread: it sees the caller's context, so the
    same ``Attempt``; the name is read only when someone listens."""
    attempt = _attempt.get()
    if attempt is not None:
        attempt.worker = threading.current_thread().name


def check_callback(on_event: Callable[[RunEvent], Any] | None) -> None:
    """Refuse an ``on_event`` that cannot be called, before any work starts.

    Raises:
        TypeError: Naming the fix.
    """
    if on_event is not None and not callable(on_event):
        raise TypeError(
            f"on_event should be a callable taking one RunEvent (or None), got "
            f"{on_event!r}."
        )
