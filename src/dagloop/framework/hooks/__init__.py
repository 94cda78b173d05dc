"""Kedro's hook contract: specifications, markers and the pluggy manager."""

from __future__ import annotations

from dagloop.framework.hooks.manager import _create_hook_manager
from dagloop.framework.hooks.markers import hook_impl
from dagloop.framework.hooks.specs import (
    DataCatalogSpecs,
    DatasetSpecs,
    KedroContextSpecs,
    NodeSpecs,
    PipelineSpecs,
)

__all__ = [
    "DataCatalogSpecs",
    "DatasetSpecs",
    "KedroContextSpecs",
    "NodeSpecs",
    "PipelineSpecs",
    "_create_hook_manager",
    "hook_impl",
]
