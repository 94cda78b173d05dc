"""``Task``: Kedro's sync API for running a single node.

It runs the same code as every runner (``_node_run.run_node``) on its own
event loop, with sync nodes inline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio

from dagloop._bridge import run_sync
from dagloop._workers.pool import default_pool
from dagloop.framework.hooks.manager import _NullPluginManager
from dagloop.runner._hooks import HookCaller
from dagloop.runner._node_run import CatalogIO, RunContext, _check_generator, run_node
from dagloop.runner._placement import (
    AsyncPlacement,
    InlinePlacement,
    Placements,
    ProcessPlacement,
    ThreadPlacement,
)

if TYPE_CHECKING:
    from dagloop.pipeline.node import Node

__all__ = ["Task", "TaskError"]


class TaskError(Exception):
    """A ``Task`` was set up in a way that cannot run."""


class Task:
    """Kedro's unit of work: run one node against a catalog, synchronously."""

    def __init__(
        self,
        node: Node,
        catalog: Any,
        is_async: bool,
        hook_manager: Any = None,
        run_id: str | None = None,
        parallel: bool = False,
    ) -> None:
        """Set up the task; see :meth:`execute`."""
        self.node = node
        self.catalog = catalog
        self.is_async = is_async
        self.hook_manager = hook_manager
        self.run_id = run_id
        self.parallel = parallel

    def execute(self) -> Node:
        """Run the node (inline, in this thread) and return it.

        Raises:
            TaskError: When no hook manager is given outside parallel mode.
        """
        if self.node._is_stream:
            raise TaskError(
                f"Node '{self.node.name}' streams its items to the nodes reading "
                f"its output: run it in a pipeline with a runner, not as a Task."
            )
        if self.is_async:
            _check_generator(self.node)
        if not self.hook_manager and not self.parallel:
            raise TaskError(
                "No hook_manager provided. This is only allowed when running a "
                "``Task`` with ``ParallelRunner``."
            )
        run_sync(self._execute)
        return self.node

    def __call__(self) -> Node:
        """Same as :meth:`execute`."""
        return self.execute()

    async def _execute(self) -> None:
        ctx = RunContext(
            catalog=CatalogIO(self.catalog),
            hooks=HookCaller(
                self.hook_manager or _NullPluginManager(), in_thread=False
            ),
            placements=Placements(
                "inline",
                [
                    AsyncPlacement(None),
                    InlinePlacement(),
                    ThreadPlacement(anyio.CapacityLimiter(1)),
                    ProcessPlacement(default_pool(), anyio.CapacityLimiter(1)),
                ],
                deadline=False,
            ),
            run_id=self.run_id,
            is_async=self.is_async,
        )
        await run_node(ctx, self.node)
