"""``DataCatalog``: the registry of datasets that nodes read from and write to.

Entries come from dataset objects, from configuration (built lazily, on first use)
and from dataset factory patterns. Every operation exists in a sync and an async
form (``load``/``aload``, ``save``/``asave``, ...); the async forms never block the
event loop, so many coroutines can load and save different datasets at once.
"""

from __future__ import annotations

import copy
import logging
import re
import threading
from pickle import PicklingError
from typing import TYPE_CHECKING, Any, ClassVar

from dagloop.io import _async
from dagloop.io.cached_dataset import CachedDataset
from dagloop.io.catalog_config_resolver import (
    CatalogConfigResolver,
    _single_placeholder,
)
from dagloop.io.core import (
    TYPE_KEY,
    VERSION_KEY,
    AbstractDataset,
    DatasetError,
    DatasetNotFoundError,
    Version,
    VersionAlreadyExistsError,
    _is_dataset,
    generate_timestamp,
    parse_dataset_definition,
)
from dagloop.io.memory_dataset import MemoryDataset, _is_memory_dataset
from dagloop.io.shared_memory_dataset import SharedMemoryDataset

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from multiprocessing.managers import SyncManager

__all__ = ["DataCatalog", "SharedMemoryDataCatalog"]

_logger = logging.getLogger(__name__)


class _LazyDataset:
    """A dataset known by its config; built on first access."""

    def __init__(
        self,
        name: str,
        config: dict[str, Any],
        load_version: str | None = None,
        save_version: str | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.load_version = load_version
        self.save_version = save_version

    def __repr__(self) -> str:
        class_type, _ = parse_dataset_definition(self.config)
        return f"{class_type.__module__}.{class_type.__qualname__}"

    def materialize(self) -> Any:
        """Build the dataset from its config."""
        return AbstractDataset.from_config(
            self.name, self.config, self.load_version, self.save_version
        )


def _forking_dumps(obj: Any) -> bytes:
    """Pickle ``obj`` as ``multiprocessing`` would (imported only when needed)."""
    from multiprocessing.reduction import ForkingPickler

    return bytes(ForkingPickler.dumps(obj))


def _uses_placeholders(value: Any) -> bool:
    """Whether a pattern's config fills anything in from the dataset name."""
    if isinstance(value, dict):
        return any(_uses_placeholders(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_uses_placeholders(v) for v in value)
    return isinstance(value, str) and "}" in value


#: How a runtime pattern builds a dataset: its class and constructor arguments.
_Recipe = tuple[type[Any], dict[str, Any]]


def _build(recipe: _Recipe) -> Any:
    cls, kwargs = recipe
    return cls(**copy.deepcopy(kwargs)) if kwargs else cls()


def _pinned_version(dataset: Any) -> Any:
    """The ``Version`` of a versioned dataset (looking inside ``CachedDataset``)."""
    inner = dataset._dataset if isinstance(dataset, CachedDataset) else dataset
    return getattr(inner, "_version", None) if _is_versioned(inner) else None


def _is_versioned(dataset: Any) -> bool:
    return hasattr(dataset, "resolve_load_version") and hasattr(dataset, "_version")


class DataCatalog:
    """Datasets by name, with lazy config entries and dataset factory patterns."""

    #: Patterns for datasets nobody declared: the runner registers them on use.
    default_runtime_patterns: ClassVar[dict[str, dict[str, Any]]] = {
        "{default}": {"type": "dagloop.io.MemoryDataset"}
    }

    def __init__(
        self,
        datasets: dict[str, Any] | None = None,
        config_resolver: CatalogConfigResolver | None = None,
        load_versions: dict[str, str] | None = None,
        save_version: str | None = None,
    ) -> None:
        """Create a catalog.

        Args:
            datasets: Dataset objects by name; other values are wrapped in a
                ``MemoryDataset``. The dict itself is kept (not copied), as Kedro
                does: later registrations appear in it.
            config_resolver: Plain and pattern entries (see ``from_config``).
            load_versions: Version to load, per versioned dataset name.
            save_version: Version every versioned dataset saves under.

        Raises:
            DatasetError: For a config entry that is not a dict or lacks ``type``.
            VersionAlreadyExistsError: When datasets pin different save versions.
        """
        self._config_resolver = config_resolver or CatalogConfigResolver(
            default_runtime_patterns=self.default_runtime_patterns
        )
        self._datasets: dict[str, Any] = datasets or {}
        for name, value in self._datasets.items():
            if not _is_dataset(value):
                # Raw data, as ``catalog[name] = value`` accepts it: hold it in memory.
                self._datasets[name] = MemoryDataset(data=value)
        self._lazy_datasets: dict[str, _LazyDataset] = {}
        # Runtime pattern → (dataset class, constructor arguments), resolved once.
        self._runtime_recipes: dict[str, _Recipe | None] = {}
        # The registry is shared by the event loop thread and I/O or node threads;
        # this lock keeps "materialise a lazy entry and register it" atomic.
        self._lock = threading.RLock()
        self._load_versions, self._save_version = self._validate_versions(
            datasets, load_versions or {}, save_version
        )
        for ds_name in list(self._config_resolver.config):
            if ds_name in self._datasets:
                _logger.warning(
                    "Cannot register dataset '%s' from config: a dataset with the same "
                    "name was already provided in the `datasets` argument.",
                    ds_name,
                )
                self._config_resolver.config.pop(ds_name)
            else:
                self._add_from_config(ds_name, self._config_resolver.config[ds_name])

    @property
    def config_resolver(self) -> CatalogConfigResolver:
        """The resolver holding this catalog's config entries and patterns."""
        return self._config_resolver

    def __repr__(self) -> str:
        combined = self._lazy_datasets | self._datasets
        return "\n".join(f"'{key}': {dataset!r}" for key, dataset in combined.items())

    def __contains__(self, dataset_name: object) -> bool:
        """Registered, lazily configured, or matched by a dataset/catch-all pattern.

        The runtime ``{default}`` pattern does not count.
        """
        if not isinstance(dataset_name, str):
            return False
        if dataset_name in self._datasets or dataset_name in self._lazy_datasets:
            return True
        return self._matches_user_pattern(dataset_name)

    def _register_runtime(self, names: Iterable[str]) -> list[str]:
        """Register the undeclared ones of ``names`` from their runtime pattern.

        The batch form of ``get(name, fallback_to_runtime_pattern=True)`` for a
        run's warm-up, called on the event loop, for the usual case only: one
        catch-all runtime pattern (``{default}``) of an in-memory dataset class
        (``_INLINE_IO``), built from one recipe for the whole batch — no user
        constructor, no I/O. It does not wait for the lock (another thread may
        hold it while building a dataset). Returns the names it left for
        ``get``: declared in config, matched by a user's pattern, any other
        runtime pattern — or all of them when the lock is busy.
        """
        names = list(names)
        recipe = self._in_memory_recipe()
        if recipe is None or not self._lock.acquire(blocking=False):
            return names
        left: list[str] = []
        built, lazy = self._datasets, self._lazy_datasets
        resolver = self._config_resolver
        user_patterns = bool(
            resolver._dataset_patterns or resolver._user_catch_all_pattern
        )
        try:
            for name in names:
                if name in built:
                    continue
                if name in lazy or (user_patterns and self._matches_user_pattern(name)):
                    left.append(name)
                else:
                    built[name] = _build(recipe)
        finally:
            self._lock.release()
        return left

    def _in_memory_recipe(self) -> _Recipe | None:
        """The recipe of the runtime pattern when it is one catch-all building an
        in-memory dataset (what ``_register_runtime`` may build on the loop)."""
        patterns = list(self._config_resolver._default_runtime_patterns)
        if len(patterns) != 1 or not _single_placeholder(patterns[0]):
            return None
        recipe = self._runtime_recipe(patterns[0])
        if recipe is None or not getattr(recipe[0], "_INLINE_IO", False):
            return None
        return recipe

    def _matches_user_pattern(self, name: str) -> bool:
        resolver = self._config_resolver
        return (
            resolver.match_dataset_pattern(name) is not None
            or resolver.match_user_catch_all_pattern(name) is not None
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataCatalog):
            return NotImplemented
        return (
            self._datasets,
            self._lazy_datasets,
            self._config_resolver.list_patterns(),
        ) == (
            other._datasets,
            other._lazy_datasets,
            other.config_resolver.list_patterns(),
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    def keys(self) -> list[str]:
        """Dataset names: lazy (not yet built) entries first, then built ones."""
        return list(self._lazy_datasets) + list(self._datasets)

    def values(self) -> list[Any]:
        """Every dataset, building lazy ones."""
        return [self[key] for key in self]

    def items(self) -> list[tuple[str, Any]]:
        """``(name, dataset)`` pairs, building lazy datasets."""
        return [(key, self[key]) for key in self]

    def __iter__(self) -> Iterator[str]:
        yield from self.keys()

    def __len__(self) -> int:
        return len(self.keys())

    def __getitem__(self, ds_name: str) -> Any:
        """The dataset ``ds_name``.

        Raises:
            DatasetNotFoundError: When the name is neither registered nor matched
                by a dataset pattern.
        """
        dataset = self.get(ds_name)
        if dataset is None:
            raise DatasetNotFoundError(f"Dataset '{ds_name}' not found in the catalog")
        return dataset

    def __setitem__(self, key: str, value: Any) -> None:
        """Register a dataset under ``key``; other values become a ``MemoryDataset``.

        Replacing an existing entry logs a warning.
        """
        with self._lock:
            if key in self._datasets or key in self._lazy_datasets:
                _logger.warning("Replacing dataset '%s'", key)
                self._datasets.pop(key, None)
                self._lazy_datasets.pop(key, None)
                self._config_resolver.config.pop(key, None)
                self._load_versions.pop(key, None)
            if isinstance(value, _LazyDataset):
                self._lazy_datasets[key] = value
            elif _is_dataset(value):
                if _pinned_version(value):
                    self._load_versions, self._save_version = self._validate_versions(
                        {key: value}, self._load_versions, self._save_version
                    )
                self._datasets[key] = value
            else:
                _logger.debug("Adding input data %s as a default MemoryDataset", key)
                self._datasets[key] = MemoryDataset(data=value)

    def get(
        self,
        key: str,
        fallback_to_runtime_pattern: bool = False,
        version: Version | None = None,
    ) -> Any:
        """The dataset ``key``, building it from config or a pattern if needed.

        Args:
            key: Dataset name.
            fallback_to_runtime_pattern: Create it from the runtime pattern (a
                ``MemoryDataset``) when nothing else matches, and register it.
            version: For a versioned dataset, return a copy using this version.

        Returns:
            The dataset, or ``None`` when unknown and no fallback was asked for.
        """
        dataset = self._datasets.get(key)  # the common case, without the lock
        if dataset is None:
            with self._lock:
                if not fallback_to_runtime_pattern and key not in self:
                    return None
                dataset = self._materialise(key)
        if version and _is_versioned(dataset):
            dataset = dataset._copy(_version=version)
        return dataset

    def _materialise(self, key: str) -> Any:
        """Register ``key`` from a pattern if needed and build it; lock held.

        The name stays registered (as a lazy entry) until the built dataset
        replaces it, so concurrent callers never see it missing.
        """
        if not (key in self._datasets or key in self._lazy_datasets):
            if not self._matches_user_pattern(key):  # only a runtime pattern matches
                dataset = self._runtime_dataset(key)
                if dataset is not None:
                    self[key] = dataset
                    return dataset
            ds_config = self._config_resolver.resolve_pattern(key)
            if ds_config:
                self._add_from_config(key, ds_config)
        lazy = self._lazy_datasets.get(key)
        if lazy:
            dataset = lazy.materialize()
            del self._lazy_datasets[key]
            self[key] = dataset
        return self._datasets[key]

    def _runtime_dataset(self, key: str) -> Any:
        """Build ``key`` from its runtime pattern, without a round trip through config.

        A run registers every undeclared dataset this way, so the pattern's
        class is resolved once per catalog. Patterns whose entry uses the name
        (placeholders) or versioning return ``None`` and take the general path.
        """
        recipe = self._runtime_recipe(self._config_resolver.match_runtime_pattern(key))
        return _build(recipe) if recipe else None

    def _runtime_recipe(self, pattern: str) -> _Recipe | None:
        """``pattern``'s dataset class and arguments, or ``None`` when its entry
        uses placeholders or versioning (those need the general path)."""
        if pattern in self._runtime_recipes:
            return self._runtime_recipes[pattern]
        config = self._config_resolver._get_pattern_config(pattern)
        recipe: _Recipe | None = None
        if not _uses_placeholders(config):
            cls, kwargs = parse_dataset_definition(config)
            if VERSION_KEY not in kwargs:
                recipe = (cls, kwargs)
        self._runtime_recipes[pattern] = recipe
        return recipe

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]  # locks cannot be copied; each copy gets its own
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()

    def _ipython_key_completions_(self) -> list[str]:
        return self.keys()

    @classmethod
    def from_config(
        cls,
        catalog: dict[str, dict[str, Any]] | None,
        credentials: dict[str, dict[str, Any]] | None = None,
        load_versions: dict[str, str] | None = None,
        save_version: str | None = None,
    ) -> DataCatalog:
        """Build a catalog from configuration (as read from ``catalog.yml``).

        Args:
            catalog: Dataset name or pattern → ``{"type": ..., **arguments}``.
            credentials: Named credentials; entries refer to them by name.
            load_versions: Version to load, per dataset.
            save_version: Version to save under (default: a timestamp now).

        Raises:
            DatasetNotFoundError: When ``load_versions`` names unknown datasets.
            DatasetError: For malformed entries or patterns.
        """
        resolver = CatalogConfigResolver(
            catalog or {}, credentials, cls.default_runtime_patterns
        )
        load_versions = load_versions or {}
        missing = [
            name
            for name in load_versions
            if not (name in resolver.config or resolver.match_dataset_pattern(name))
        ]
        if missing:
            raise DatasetNotFoundError(
                f"'load_versions' keys [{', '.join(sorted(missing))}] "
                f"are not found in the catalog."
            )
        return cls(
            load_versions=load_versions,
            save_version=save_version or generate_timestamp(),
            config_resolver=resolver,
        )

    def to_config(
        self,
    ) -> tuple[
        dict[str, dict[str, Any]],
        dict[str, dict[str, Any]],
        dict[str, str | None],
        str | None,
    ]:
        """Write the catalog back as ``(catalog, credentials, load_versions, save_version)``.

        Memory datasets are left out; credentials become ``<name>_credentials``
        references.
        """
        catalog: dict[str, dict[str, Any]] = {}
        credentials: dict[str, dict[str, Any]] = {}
        load_versions: dict[str, str | None] = {}
        entries: list[tuple[str, dict[str, Any]]] = [
            (name, lazy.config)
            for name, lazy in self._lazy_datasets.items()
            if not _is_memory_dataset(lazy.config.get(TYPE_KEY, ""))
        ]
        entries += [
            (name, ds._init_config())
            for name, ds in self._datasets.items()
            if not _is_memory_dataset(ds) and hasattr(ds, "_init_config")
        ]
        for name, config in entries:
            unresolved, creds = self._config_resolver._unresolve_credentials(
                name, config
            )
            catalog[name] = unresolved
            credentials.update(creds)
            load_versions[name] = self._load_versions.get(name)
        return catalog, credentials, load_versions, self._save_version

    @staticmethod
    def _validate_dataset_config(ds_name: str, ds_config: Any) -> None:
        if not isinstance(ds_config, dict):
            raise DatasetError(
                f"Catalog entry '{ds_name}' is not a valid dataset configuration. "
                "\nHint: If this catalog entry is intended for variable interpolation, "
                "make sure that the key is preceded by an underscore."
            )
        if TYPE_KEY not in ds_config:
            raise DatasetError(
                f"An exception occurred when parsing config for dataset '{ds_name}':\n"
                "'type' is missing from dataset catalog configuration."
                "\nHint: If this catalog entry is intended for variable interpolation, "
                "make sure that the top level key is preceded by an underscore."
            )

    def _add_from_config(self, ds_name: str, ds_config: dict[str, Any]) -> None:
        self._validate_dataset_config(ds_name, ds_config)
        lazy = _LazyDataset(
            ds_name, ds_config, self._load_versions.get(ds_name), self._save_version
        )
        self.__setitem__(ds_name, lazy)

    def filter(
        self,
        name_regex: re.Pattern[str] | str | None = None,
        type_regex: re.Pattern[str] | str | None = None,
        by_type: type | list[type] | None = None,
    ) -> list[str]:
        """Names of datasets matching all given criteria, without building any.

        Args:
            name_regex: Searched in each name.
            type_regex: Searched in each dataset's full class path.
            by_type: A class (or classes) the dataset's class must be exactly.
        """
        names = self.keys()
        if name_regex:
            names = [name for name in names if re.search(name_regex, name)]
        types: set[str] = set()
        if by_type:
            for cls in by_type if isinstance(by_type, list) else [by_type]:
                types.add(f"{cls.__module__}.{cls.__qualname__}")
        if not (types or type_regex):
            return names
        kept = []
        for name in names:
            class_path = self.get_type(name) or ""
            if (not type_regex or re.search(type_regex, class_path)) and (
                not types or class_path in types
            ):
                kept.append(name)
        return kept

    def get_type(self, ds_name: str) -> str | None:
        """The full class path of dataset ``ds_name``, without building it."""
        if ds_name not in self:
            return None
        if ds_name not in self._datasets and ds_name not in self._lazy_datasets:
            return str(
                _LazyDataset(ds_name, self._config_resolver.resolve_pattern(ds_name))
            )
        if ds_name in self._lazy_datasets:
            return str(self._lazy_datasets[ds_name])
        class_type = type(self._datasets[ds_name])
        return f"{class_type.__module__}.{class_type.__qualname__}"

    # ------------------------------------------------------------------ sync I/O

    def save(self, ds_name: str, data: Any) -> None:
        """Save ``data`` to dataset ``ds_name``.

        Raises:
            DatasetNotFoundError: For an unknown name (runtime patterns are not used).
            DatasetError: When saving fails.
        """
        dataset = self[ds_name]
        if _logger.isEnabledFor(logging.INFO):  # per dataset: one call, not two
            _logger.info("Saving data to %s (%s)...", ds_name, type(dataset).__name__)
        dataset.save(data)

    def load(self, ds_name: str, version: str | None = None) -> Any:
        """Load dataset ``ds_name`` (at ``version``, for versioned datasets).

        Raises:
            DatasetNotFoundError: For an unknown name.
            DatasetError: When loading fails.
        """
        dataset = self._dataset_for_load(ds_name, version)
        return dataset.load()

    def _dataset_for_load(self, ds_name: str, version: str | None) -> Any:
        dataset = self.get(ds_name, version=Version(version, None) if version else None)
        if dataset is None:
            raise DatasetNotFoundError(f"Dataset '{ds_name}' not found in the catalog")
        if _logger.isEnabledFor(logging.INFO):  # per dataset: one call, not two
            _logger.info(
                "Loading data from %s (%s)...", ds_name, type(dataset).__name__
            )
        return dataset

    def release(self, ds_name: str) -> None:
        """Release dataset ``ds_name`` (drop cached data)."""
        self[ds_name].release()

    def confirm(self, ds_name: str) -> None:
        """Call ``confirm()`` on dataset ``ds_name``.

        Raises:
            DatasetError: When the dataset has no ``confirm`` method.
        """
        _logger.info("Confirming dataset '%s'", ds_name)
        dataset = self[ds_name]
        if not hasattr(dataset, "confirm"):
            raise DatasetError(f"Dataset '{ds_name}' does not have 'confirm' method")
        dataset.confirm()

    def exists(self, ds_name: str) -> bool:
        """Whether dataset ``ds_name``'s data exists (``False`` for unknown names)."""
        dataset = self.get(ds_name)
        return bool(dataset.exists()) if dataset else False

    # ----------------------------------------------------------------- async I/O

    async def _aget(self, ds_name: str, version: str | None = None) -> Any:
        """``get`` for async callers: building a dataset from config (imports,
        constructors) happens in an I/O thread, not on the loop."""
        if ds_name in self._datasets and not version:
            return self._datasets[ds_name]
        return await _async.in_io_thread(
            self.get, ds_name, False, Version(version, None) if version else None
        )

    async def aload(self, ds_name: str, version: str | None = None) -> Any:
        """Load dataset ``ds_name`` without blocking the event loop."""
        dataset = None if version else self._datasets.get(ds_name)  # no coroutine
        if dataset is None:
            dataset = await self._aget(ds_name, version)
        if dataset is None:
            raise DatasetNotFoundError(f"Dataset '{ds_name}' not found in the catalog")
        if _logger.isEnabledFor(logging.INFO):  # per dataset: one call, not two
            _logger.info(
                "Loading data from %s (%s)...", ds_name, type(dataset).__name__
            )
        # In memory, behind AbstractDataset's own aload: called here directly.
        if getattr(dataset, "_INLINE_IO", False) and getattr(
            dataset, "_PLAIN_ALOAD", False
        ):
            return dataset.load()
        return await _async.aload(dataset)

    async def asave(self, ds_name: str, data: Any) -> None:
        """Save ``data`` to dataset ``ds_name`` without blocking the event loop."""
        dataset = self._datasets.get(ds_name)  # the common case, without a coroutine
        if dataset is None:
            dataset = await self._aget(ds_name)
        if dataset is None:
            raise DatasetNotFoundError(f"Dataset '{ds_name}' not found in the catalog")
        if _logger.isEnabledFor(logging.INFO):  # per dataset: one call, not two
            _logger.info("Saving data to %s (%s)...", ds_name, type(dataset).__name__)
        if getattr(dataset, "_INLINE_IO", False) and getattr(
            dataset, "_PLAIN_ASAVE", False
        ):
            dataset.save(data)
        else:
            await _async.asave(dataset, data)

    async def aexists(self, ds_name: str) -> bool:
        """Whether dataset ``ds_name``'s data exists, without blocking the loop."""
        dataset = await self._aget(ds_name)
        return await _async.aexists(dataset) if dataset is not None else False

    async def arelease(self, ds_name: str) -> None:
        """Release dataset ``ds_name`` without blocking the event loop."""
        dataset = self._datasets.get(ds_name)  # the common case, without a coroutine
        if dataset is None:
            dataset = await self._aget(ds_name)
        if dataset is None:
            raise DatasetNotFoundError(f"Dataset '{ds_name}' not found in the catalog")
        if getattr(dataset, "_INLINE_IO", False) and getattr(
            dataset, "_PLAIN_ARELEASE", False
        ):
            dataset.release()
        else:
            await _async.arelease(dataset)

    # ------------------------------------------------------------------ versions

    @staticmethod
    def _validate_versions(
        datasets: dict[str, Any] | None,
        load_versions: dict[str, str],
        save_version: str | None,
    ) -> tuple[dict[str, str], str | None]:
        """Collect pinned versions; all datasets must share one save version.

        Raises:
            VersionAlreadyExistsError: When a dataset pins a different save version.
        """
        if not datasets:
            return load_versions, save_version
        load_versions = load_versions.copy()
        for ds_name, ds in datasets.items():
            version = _pinned_version(ds)
            if not version:
                continue
            if version.load:
                load_versions[ds_name] = version.load
            if version.save:
                save_version = save_version or version.save
                if save_version != version.save:
                    raise VersionAlreadyExistsError(
                        f"Cannot add a dataset `{ds_name}` with `{version.save}` save "
                        f"version. Save version set for the catalog is `{save_version}`"
                        f"All datasets in the catalog must have the same save version."
                    )
        return load_versions, save_version


class SharedMemoryDataCatalog(DataCatalog):
    """A catalog for ``ParallelRunner``: undeclared datasets are shared-memory ones."""

    default_runtime_patterns: ClassVar[dict[str, dict[str, Any]]] = {
        "{default}": {"type": "dagloop.io.SharedMemoryDataset"}
    }

    def set_manager_datasets(self, manager: SyncManager) -> None:
        """Attach every ``SharedMemoryDataset`` to ``manager``."""
        for dataset in self._datasets.values():
            if isinstance(dataset, SharedMemoryDataset):
                dataset.set_manager(manager)

    def validate_catalog(self) -> None:
        """Check that every built dataset can be sent to another process.

        Raises:
            AttributeError: Listing the datasets that are single-process only or
                cannot be pickled.
        """
        unserialisable = []
        for name, dataset in self._datasets.items():
            if getattr(dataset, "_SINGLE_PROCESS", False):
                unserialisable.append(name)
                continue
            try:
                _forking_dumps(dataset)
            except (AttributeError, PicklingError, TypeError):
                unserialisable.append(name)
        if unserialisable:
            raise AttributeError(
                f"The following datasets cannot be used with multiprocessing: "
                f"{sorted(unserialisable)}\nIn order to utilize multiprocessing you "
                f"need to make sure all datasets are serialisable, i.e. datasets "
                f"should not make use of lambda functions, nested functions, closures "
                f"etc.\nIf you are using custom decorators ensure they are correctly "
                f"decorated using functools.wraps()."
            )
