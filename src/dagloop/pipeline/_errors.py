"""The pipeline model's exceptions; all importable from ``dagloop.pipeline.pipeline``."""

from __future__ import annotations

__all__ = [
    "CircularDependencyError",
    "ConfirmNotUniqueError",
    "OutputNotUniqueError",
    "PipelineError",
]

_PUBLIC_MODULE = "dagloop.pipeline.pipeline"


class PipelineError(Exception):
    """Raised when a pipeline is not adapted and integrated appropriately using the helper."""


class OutputNotUniqueError(Exception):
    """Raised when two or more nodes of a pipeline produce the same dataset."""


class ConfirmNotUniqueError(Exception):
    """Raised when two or more nodes of a pipeline confirm the same dataset."""


class CircularDependencyError(Exception):
    """Raised when the nodes' dependencies form a cycle, so no order exists."""


for _cls in (
    PipelineError,
    OutputNotUniqueError,
    ConfirmNotUniqueError,
    CircularDependencyError,
):
    _cls.__module__ = _PUBLIC_MODULE  # tracebacks name the module users import from
