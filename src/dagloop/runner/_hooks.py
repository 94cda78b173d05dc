"""Calling node and dataset hooks from the async core.

Hook implementations are ordinary (sync) functions and may do I/O. When dagloop
owns the event loop (``run()``) they are called inline; under ``arun()`` the loop
belongs to the host application, so they run in a worker thread instead. Hooks
nobody implements are skipped without any call at all, which keeps the per-node
path cheap in the common case of no hooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread

if TYPE_CHECKING:
    from collections.abc import Mapping

    from dagloop.pipeline import Node

NODE_AND_DATASET_HOOKS = (
    "before_node_run",
    "after_node_run",
    "on_node_error",
    "before_dataset_loaded",
    "after_dataset_loaded",
    "before_dataset_saved",
    "after_dataset_saved",
)


def _implemented(manager: Any) -> frozenset[str]:
    """The node/dataset hooks ``manager`` has implementations for."""
    hook = getattr(manager, "hook", None)
    names = set()
    for name in NODE_AND_DATASET_HOOKS:
        caller = getattr(hook, name, None)
        get_impls = getattr(caller, "get_hookimpls", None)
        if get_impls is None:
            # Not a pluggy hook caller: a null manager answers everything with
            # itself; anything else is called and trusted to handle the call.
            if caller is not None and caller is not manager:
                names.add(name)
        elif get_impls():
            names.add(name)
    return frozenset(names)


class HookCaller:
    """Calls one run's hooks, inline or in a worker thread."""

    def __init__(
        self,
        manager: Any,
        *,
        in_thread: bool,
        nodes: Mapping[Node, Any] | None = None,
    ) -> None:
        """Prepare to call ``manager``'s hooks.

        Args:
            manager: A pluggy ``PluginManager`` (or a null manager).
            in_thread: Call hooks in a worker thread so they never block the loop.
            nodes: The node hooks receive in place of each node run (the Kedro
                node a node was built from); by default the node itself.
        """
        self._nodes = nodes
        self._hook = getattr(manager, "hook", None)
        #: The hook names some implementation is registered for (read per node).
        self.active = _implemented(manager)
        #: Whether any dataset load / save hook is implemented (checked per dataset).
        self.on_load = bool(
            {"before_dataset_loaded", "after_dataset_loaded"} & self.active
        )
        self.on_save = bool(
            {"before_dataset_saved", "after_dataset_saved"} & self.active
        )
        self._in_thread = in_thread
        # One thread at a time per run: hook implementations written for Kedro's
        # sequential runner need not be thread-safe.
        self._limiter = anyio.CapacityLimiter(1)

    async def call(self, name: str, **kwargs: Any) -> list[Any]:
        """Call hook ``name`` with keyword arguments; return the implementations' results."""
        if name not in self.active:
            return []
        caller = getattr(self._hook, name)
        if self._nodes is not None and "node" in kwargs:
            kwargs["node"] = self._nodes[kwargs["node"]]
        if not self._in_thread:
            return list(caller(**kwargs) or [])
        # Abandoned if the run is cancelled: a hook blocking its thread must not
        # hold up the run's deadline.
        result = await anyio.to_thread.run_sync(
            lambda: caller(**kwargs), limiter=self._limiter, abandon_on_cancel=True
        )
        return list(result or [])
