"""Run events: one stream of what a run does, whatever runs it and wherever.

The scheduler and the node runner *emit*; observers (``stream()``, ``on_event``
callbacks, and later progress bars, pictures and tracing) *subscribe*. With no
subscriber, emitting costs one attribute check per emission point: the hot path
is unchanged. With one, an event costs a few hundred nanoseconds to make and
deliver: events are built without the dataclass's checked ``__init__``, and a
subscriber on another thread is woken once per batch, not once per event.

Delivery policy (one per subscriber): events are queued in order and never
block the run. A subscriber more than ``capacity`` events behind loses new
``dataset_loaded`` / ``dataset_saved`` events (counted in ``dropped``); run and
node events are always kept — there are at most a few per node, so memory stays
bounded by the pipeline's size. Chosen so that a slow consumer sees every node's
fate (what a progress display or a client needs) and costs the run nothing.
"""

from __future__ import annotations

import itertools
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
    "stream_finished",
    "run_finished",
    "run_failed",
]

#: Kinds a lagging subscriber may lose (see the module's delivery policy).
_LOSSY = frozenset({"dataset_loaded", "dataset_saved"})

#: Events a subscriber holds before it starts dropping dataset events.
DEFAULT_CAPACITY = 10_000


@dataclass(frozen=True)
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
        nodes: On ``run_started``, how many nodes the run will run (after
            ``only_missing_outputs`` has left out those whose outputs exist);
            ``None`` when the run failed before knowing.
        items: On ``stream_finished`` (after a streaming node's
            ``node_finished``; ``dataset`` is its stream), how many items it
            yielded.
        waited: On ``stream_finished``, the seconds the node waited because a
            consumer's buffer was full (backpressure).
        resume_from: On ``run_failed`` after a node failed, the nodes to
            resume from (Kedro's ``--from-nodes`` hint, also logged): the
            nearest ones whose inputs are persisted. Empty when no node had
            finished (run it all again); ``None`` when no node failed.
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
    nodes: int | None = None
    items: int | None = None
    waited: float | None = None
    resume_from: tuple[str, ...] | None = None


# Events are built as ``_new(RunEvent)`` and ``_set(event, "__dict__", fields)``:
# about three times as fast as ``RunEvent(**fields)``, whose frozen ``__init__``
# sets each field through ``object.__setattr__`` (emitting is on every node's
# path when someone listens). Fields left out read as their defaults, the
# dataclass's class attributes.
_new = object.__new__
_set = object.__setattr__


class Observer(Protocol):
    """Receives a run's events, in order, from the thread running the run.

    An observer that raises gets no further events of that run, and the run goes
    on (see :class:`RunEvents`).
    """

    @property
    def put(self) -> Callable[[RunEvent], Any]:
        """Takes one event, quickly: the run waits meanwhile. Any callable (a
        method, or a plain callback called with no wrapper around it)."""
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
        """Deliver events straight to ``callback``."""
        self.put = callback

    def __repr__(self) -> str:
        return f"the on_event callback {self.put!r}"

    def close(self) -> None:
        """Nothing to flush."""


class Subscriber:
    """One observer's queue of events, read with ``async for`` on its loop.

    Events may be put from the thread of a run moved to a loop of its own: they
    are queued at once, in order, and the reader is woken only when it waits,
    once per batch: a wake-up across threads costs a system call.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        """Subscribe from the loop that will read the events."""
        self._capacity = capacity
        # A deque: an append on the run's thread and a popleft on the reader's
        # are each atomic, so the queue needs no lock.
        self._items: deque[RunEvent] = deque()
        self._closed = False
        #: Set while the reader waits; whoever takes it wakes the reader.
        self._wakeup: anyio.Event | None = None
        self._thread = threading.get_ident()
        self._call_soon = loop_call_soon()
        #: Dataset events lost because this subscriber lagged (see module doc).
        self.dropped = 0

    def __repr__(self) -> str:
        return "a stream() reader"

    def put(self, event: RunEvent) -> None:
        """Queue ``event`` (on the run's thread)."""
        items = self._items
        if len(items) >= self._capacity and event.kind in _LOSSY:
            self.dropped += 1
            return
        items.append(event)
        if self._wakeup is not None:
            self._wake()

    def close(self) -> None:
        """No more events will come (on the run's thread, after its last ``put``)."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        # Appending before looking at ``_wakeup`` here, and setting ``_wakeup``
        # before looking at the queue in ``next_batch``, means one of the two
        # sees the other: no event waits for a later one to be read.
        wakeup, self._wakeup = self._wakeup, None
        if wakeup is None:
            return
        if threading.get_ident() == self._thread:
            wakeup.set()
        else:
            self._call_soon(wakeup.set)

    async def next_batch(self) -> list[RunEvent]:
        """The events queued since the last call (waiting for one if there is
        none); an empty list once closed and drained."""
        items = self._items
        while not items and not self._closed:
            self._wakeup = wakeup = anyio.Event()
            if items or self._closed:  # came in meanwhile: no one will wake us
                self._wakeup = None
                break
            await wakeup.wait()
        return [items.popleft() for _ in range(len(items))]


class RunEvents:
    """Emits one run's events to its observers (emitters run on the run's loop).

    One method per shape of event, taking positional fields: these run several
    times per node whenever someone listens.
    """

    def __init__(self, run_id: str, observers: tuple[Observer, ...]) -> None:
        """Start the run's clock."""
        self.run_id = run_id
        self._observers = observers
        self._start = perf_counter()
        #: The name of the thread running the run's loop (where async and
        #: inline nodes run).
        self.loop_thread = threading.current_thread().name
        self._put = observers[0].put if len(observers) == 1 else self._put_all
        self._started = False
        #: Set when a node failed: ``run_failed``'s ``resume_from``.
        self.resume_from: tuple[str, ...] | None = None

    def _put_all(self, event: RunEvent) -> None:
        for observer in self._observers:
            try:
                observer.put(event)
            except Exception:
                self._drop(observer, event)

    def _drop(self, observer: Observer, event: RunEvent) -> None:
        """``observer`` raised on ``event``: log it, close it, and deliver it
        nothing more. The run goes on: an observer never fails a run."""
        _logger.warning(
            "Run %s: %r raised on a '%s' event; it gets no further events of this run.",
            self.run_id,
            observer,
            event.kind,
            exc_info=True,
        )
        self._observers = tuple(o for o in self._observers if o is not observer)
        if len(self._observers) == 1:
            self._put = self._observers[0].put
        elif not self._observers:
            self._put = _ignore
        _close(observer, self.run_id)  # a bar stops, a stream's reader ends

    def started(self, nodes: int | None) -> None:
        """Send ``run_started`` once the run knows how many ``nodes`` it runs
        (a second call, from a run that failed before knowing, does nothing)."""
        if not self._started:
            self._started = True
            self.emit("run_started", nodes=nodes)

    def now(self) -> float:
        """Seconds since the run started."""
        return perf_counter() - self._start

    def emit(self, kind: EventKind, **fields: Any) -> None:
        """Send one event to every subscriber."""
        fields["kind"] = kind
        fields["run_id"] = self.run_id
        fields["at"] = perf_counter() - self._start
        self._send(fields)

    def node(
        self,
        kind: EventKind,
        node: str,
        placement: str,
        worker: str | int | None,
        attempt: int,
        duration: float | None = None,
        error: BaseException | None = None,
    ) -> None:
        """Send a ``node_started``, ``node_finished`` or ``node_failed`` event."""
        self._send(
            {
                "kind": kind,
                "run_id": self.run_id,
                "at": perf_counter() - self._start,
                "node": node,
                "placement": placement,
                "worker": worker,
                "attempt": attempt,
                "duration": duration,
                "error": error,
            }
        )

    def dataset(
        self, kind: EventKind, node: str | None, dataset: str, start: float
    ) -> None:
        """Send a ``dataset_loaded`` or ``dataset_saved`` event for the load or
        save that began at ``start`` (from :meth:`now`)."""
        at = perf_counter() - self._start
        self._send(
            {
                "kind": kind,
                "run_id": self.run_id,
                "at": at,
                "node": node,
                "dataset": dataset,
                "duration": at - start,
            }
        )

    def _send(self, fields: dict[str, Any]) -> None:
        """Make the event of ``fields`` (all its non-default fields) and deliver it."""
        event = _new(RunEvent)
        _set(event, "__dict__", fields)
        try:
            self._put(event)
        except Exception:  # only the one observer's: _put_all handles its own
            self._drop(self._observers[0], event)

    def close(self) -> None:
        """The run is over: every observer is told (a stream ends once drained)."""
        for observer in self._observers:
            _close(observer, self.run_id)


def _close(observer: Observer, run_id: str) -> None:
    """Close ``observer``; one that raises is logged, and the others still closed."""
    try:
        observer.close()
    except Exception:
        _logger.warning(
            "Run %s: %r raised when the run ended.", run_id, observer, exc_info=True
        )


def _ignore(event: RunEvent) -> None:
    """Delivery once every observer has been dropped."""


class Attempt:
    """Where the current node attempt runs, noted by the placement that runs it."""

    __slots__ = ("number", "worker")

    def __init__(self, worker: str | int | None) -> None:
        self.worker = worker
        self.number = 1


#: The attempt the current node task is making, when someone listens to events.
_attempt: ContextVar[Attempt | None] = ContextVar("dagloop_attempt", default=None)


def note_worker(worker: int | str) -> None:
    """Record the worker running the current attempt (if anyone listens): a
    worker process's pid, or a cluster worker's address."""
    attempt = _attempt.get()
    if attempt is not None:
        attempt.worker = worker


def note_thread() -> None:
    """Record the current thread as running the current attempt (if anyone
    listens). Called in the worker thread: it sees the caller's context, so the
    same ``Attempt``; the name is read only when someone listens.

    AnyIO names all its worker threads alike; such a thread is renamed
    ``dagloop-thread-N`` (unique in the process) the first time it runs a node
    someone watches, so that a timeline can tell threads apart.
    """
    attempt = _attempt.get()
    if attempt is not None:
        thread = threading.current_thread()
        if thread.name == _ANYIO_WORKER:
            thread.name = f"dagloop-thread-{next(_thread_numbers)}"
        attempt.worker = thread.name


#: The name AnyIO gives every thread of its pool.
_ANYIO_WORKER = "AnyIO worker thread"
_thread_numbers = itertools.count(1)


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
