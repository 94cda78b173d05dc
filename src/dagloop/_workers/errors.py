"""Errors of the process boundary; exported from ``dagloop.runner``."""

from __future__ import annotations

__all__ = ["ProcessTransferError", "WorkerProcessError"]


class ProcessTransferError(Exception):
    """A node's function, inputs or result cannot cross the process boundary."""


class WorkerProcessError(Exception):
    """The worker process running a node died (killed, crashed, out of memory)."""


for _cls in (ProcessTransferError, WorkerProcessError):
    _cls.__module__ = "dagloop.runner"
