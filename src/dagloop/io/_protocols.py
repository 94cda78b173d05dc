"""The catalog interface runners rely on, as ``typing.Protocol`` classes.

Any object with these members works as a catalog, so users can bring their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Iterator

_C = TypeVar("_C", covariant=True)
_DS = TypeVar("_DS")


@runtime_checkable
class CatalogProtocol(Protocol[_C, _DS]):
    """What a runner needs from a catalog."""

    _datasets: dict[str, _DS]

    def __repr__(self) -> str:
        """One line per registered dataset."""
        ...

    def __contains__(self, ds_name: str) -> bool:
        """Whether ``ds_name`` is registered or matches a dataset pattern."""
        ...

    def keys(self) -> list[str]:
        """Registered dataset names."""
        ...

    def values(self) -> list[_DS]:
        """Registered datasets."""
        ...

    def items(self) -> list[tuple[str, _DS]]:
        """``(name, dataset)`` pairs."""
        ...

    def __iter__(self) -> Iterator[str]:
        """Iterate over dataset names."""
        ...

    def __getitem__(self, ds_name: str) -> _DS:
        """The dataset called ``ds_name``."""
        ...

    def __setitem__(self, key: str, value: Any) -> None:
        """Register a dataset (or raw data) under ``key``."""
        ...

    @classmethod
    def from_config(cls, catalog: dict[str, dict[str, Any]] | None) -> _C:
        """Build a catalog from configuration."""
        ...

    def get(self, key: str, fallback_to_runtime_pattern: bool = False) -> _DS | None:
        """The dataset called ``key``, or ``None``."""
        ...

    def save(self, name: str, data: Any) -> None:
        """Save ``data`` to dataset ``name``."""
        ...

    def load(self, name: str, version: str | None = None) -> Any:
        """Load dataset ``name``."""
        ...

    def release(self, name: str) -> None:
        """Release dataset ``name``."""
        ...

    def confirm(self, name: str) -> None:
        """Confirm dataset ``name``."""
        ...

    def exists(self, name: str) -> bool:
        """Whether dataset ``name``'s data exists."""
        ...


@runtime_checkable
class SharedMemoryCatalogProtocol(CatalogProtocol[Any, Any], Protocol):
    """A catalog usable with ``ParallelRunner``."""

    def set_manager_datasets(self, manager: Any) -> None:
        """Attach shared-memory datasets to a multiprocessing manager."""
        ...

    def validate_catalog(self) -> None:
        """Raise if a dataset cannot be used across processes."""
        ...
