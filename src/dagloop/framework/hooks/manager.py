"""Hook managers: a pluggy ``PluginManager`` with dagloop's specs, and a null one."""

from __future__ import annotations

import logging
from inspect import isclass
from typing import TYPE_CHECKING, Any

from pluggy import PluginManager

from dagloop.framework.hooks.markers import HOOK_NAMESPACE
from dagloop.framework.hooks.specs import (
    DataCatalogSpecs,
    DatasetSpecs,
    KedroContextSpecs,
    NodeSpecs,
    PipelineSpecs,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["_NullPluginManager", "_create_hook_manager", "_register_hooks"]

_logger = logging.getLogger(__name__)


def _create_hook_manager() -> PluginManager:
    """A new plugin manager with every hook specification registered."""
    manager = PluginManager(HOOK_NAMESPACE)
    for specs in (
        NodeSpecs,
        PipelineSpecs,
        DataCatalogSpecs,
        DatasetSpecs,
        KedroContextSpecs,
    ):
        manager.add_hookspecs(specs)
    return manager


def _register_hooks(hook_manager: PluginManager, hooks: Iterable[Any]) -> None:
    """Register hook *instances* (registering one twice is a no-op).

    Raises:
        TypeError: When a class is given instead of an instance.
    """
    for hooks_collection in hooks:
        if hook_manager.is_registered(hooks_collection):
            continue
        if isclass(hooks_collection):
            raise TypeError(
                "KedroSession expects hooks to be registered as instances. "
                "Have you forgotten the `()` when registering a hook class ?"
            )
        hook_manager.register(hooks_collection)


class _NullPluginManager:
    """Accepts any hook call and does nothing: used when no manager is given."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        return None
