"""The catalog's exceptions; all importable from ``dagloop.io`` and ``dagloop.io.core``."""

from __future__ import annotations

__all__ = [
    "DatasetAlreadyExistsError",
    "DatasetError",
    "DatasetNotFoundError",
    "VersionAlreadyExistsError",
    "VersionNotFoundError",
]


class DatasetError(Exception):
    """A dataset failed to load, save or be configured.

    Errors raised inside a dataset are translated into this class once, at the
    dataset boundary, with the original exception as ``__cause__``.
    """


class DatasetNotFoundError(DatasetError):
    """A dataset name is not registered in the catalog."""


class DatasetAlreadyExistsError(DatasetError):
    """A dataset name is already registered (kept for API compatibility)."""


class VersionNotFoundError(DatasetError):
    """No version of a versioned dataset can be found to load."""


class VersionAlreadyExistsError(DatasetError):
    """A dataset's save version conflicts with the catalog's save version."""


for _cls in (
    DatasetError,
    DatasetNotFoundError,
    DatasetAlreadyExistsError,
    VersionNotFoundError,
    VersionAlreadyExistsError,
):
    _cls.__module__ = "dagloop.io.core"  # tracebacks name the module users import from
