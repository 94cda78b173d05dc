"""Runners: one async core, three policies.

``SequentialRunner`` runs one node at a time; ``ThreadRunner`` runs sync nodes in
threads and ``ParallelRunner`` in processes; all of them run ``async def`` nodes as
coroutines on the event loop. Each has ``run()`` and the awaitable ``arun()``,
and reports what a run does as :class:`RunEvent` s (``on_event=``, ``stream()``).
"""

from __future__ import annotations

import sys

from dagloop._workers.pool import WorkerPool
from dagloop.runner._errors import (
    NodeTimeoutError,
    ProcessTransferError,
    RunTimeoutError,
    WorkerProcessError,
)
from dagloop.runner._events import EventKind, RunEvent
from dagloop.runner._quota import RateLimit
from dagloop.runner._stream import RunStream
from dagloop.runner.dask_runner import DaskRunner
from dagloop.runner.parallel_runner import ParallelRunner
from dagloop.runner.runner import AbstractRunner
from dagloop.runner.sequential_runner import SequentialRunner
from dagloop.runner.task import Task
from dagloop.runner.thread_runner import ThreadRunner

__all__ = [
    "AbstractRunner",
    "DaskRunner",
    "EventKind",
    "NodeTimeoutError",
    "ParallelRunner",
    "ProcessTransferError",
    "RateLimit",
    "RunEvent",
    "RunStream",
    "RunTimeoutError",
    "SequentialRunner",
    "Task",
    "ThreadRunner",
    "WorkerPool",
    "WorkerProcessError",
]

# Keep this last: the plugin imports this package, finished by now.
if sys.modules.get("kedro.runner") is not None:
    # Kedro came first (``kedro run --runner=dagloop.runner.ThreadRunner``):
    # be one of its runners. Otherwise Kedro's session loads the plugin itself.
    # Importing it registers them (when it is what imported this, once it is done).
    import dagloop.framework._kedro  # noqa: F401
