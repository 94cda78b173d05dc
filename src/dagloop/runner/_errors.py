"""Errors the runners raise on top of Kedro's; all exported from ``dagloop.runner``."""

from __future__ import annotations

from dagloop._workers.errors import ProcessTransferError, WorkerProcessError

__all__ = [
    "NodeTimeoutError",
    "ProcessTransferError",
    "RunTimeoutError",
    "WorkerProcessError",
]


class NodeTimeoutError(TimeoutError):
    """A node attempt took longer than its ``timeout``."""

    def __init__(self, node_name: str, timeout: float) -> None:
        super().__init__(
            f"Node '{node_name}' did not finish within its timeout of {timeout:g} s."
        )
        self.node_name = node_name
        self.timeout = timeout


class RunTimeoutError(TimeoutError):
    """A whole run took longer than the ``timeout`` given to ``run``/``arun``."""

    def __init__(self, timeout: float) -> None:
        super().__init__(
            f"The pipeline run did not finish within its timeout of {timeout:g} s; "
            f"nodes in flight were cancelled, outputs already saved were kept."
        )
        self.timeout = timeout


for _cls in (NodeTimeoutError, RunTimeoutError):
    _cls.__module__ = "dagloop.runner"
