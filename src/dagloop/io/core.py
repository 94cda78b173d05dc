"""The dataset contract: ``AbstractDataset``, versioning, errors and config parsing.

A dataset moves one piece of data in and out of storage. Subclasses implement the
sync methods ``load``/``save`` (or ``_load``/``_save``) and ``_describe``, as in
Kedro; or the async methods ``_aload``/``_asave`` (and optionally ``_aexists``) when
their I/O is naturally async. Either way every dataset offers both faces:

* sync datasets get ``aload``/``asave``/``aexists``/``arelease`` that run the sync
  method in a worker thread (``_INLINE_IO = True`` datasets, such as in-memory
  ones, run inline instead), so the event loop is never blocked;
* async datasets get ``load``/``save``/``exists`` that run the coroutine through
  :func:`dagloop._bridge.run_sync`.

Errors are translated once, at this boundary, into :class:`DatasetError`.
"""

from __future__ import annotations

import abc
import copy
import inspect
import logging
import pprint
import sys
import warnings
from collections import namedtuple
from datetime import UTC, datetime
from functools import wraps
from glob import iglob
from pathlib import Path, PurePath, PurePosixPath
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, cast

from dagloop._bridge import run_sync
from dagloop.io._async import in_io_thread
from dagloop.io._errors import (
    DatasetAlreadyExistsError,
    DatasetError,
    DatasetNotFoundError,
    VersionAlreadyExistsError,
    VersionNotFoundError,
)
from dagloop.io._paths import (
    CLOUD_PROTOCOLS,
    HTTP_PROTOCOLS,
    PROTOCOL_DELIMITER,
    _parse_filepath,
    get_filepath_str,
    get_protocol_and_path,
    is_parameter,
    validate_on_forbidden_chars,
)
from dagloop.io._protocols import CatalogProtocol, SharedMemoryCatalogProtocol
from dagloop.utils import load_obj

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "CLOUD_PROTOCOLS",
    "HTTP_PROTOCOLS",
    "PROTOCOL_DELIMITER",
    "TYPE_KEY",
    "VERSIONED_FLAG_KEY",
    "VERSION_FORMAT",
    "VERSION_KEY",
    "AbstractDataset",
    "AbstractVersionedDataset",
    "CatalogProtocol",
    "DatasetAlreadyExistsError",
    "DatasetError",
    "DatasetNotFoundError",
    "SharedMemoryCatalogProtocol",
    "TCopyMode",
    "Version",
    "VersionAlreadyExistsError",
    "VersionNotFoundError",
    "generate_timestamp",
    "get_filepath_str",
    "get_protocol_and_path",
    "is_parameter",
    "parse_dataset_definition",
    "validate_on_forbidden_chars",
]

VERSION_FORMAT = "%Y-%m-%dT%H.%M.%S.%fZ"
VERSIONED_FLAG_KEY = "versioned"
VERSION_KEY = "version"
TYPE_KEY = "type"

#: How ``MemoryDataset`` copies data on load and save.
TCopyMode = Literal["deepcopy", "copy", "assign"]

#: Where short ``type`` names in catalog configs are looked up, in order.
_DEFAULT_PACKAGES = ["dagloop.io.", "kedro_datasets.", ""]

_DI = TypeVar("_DI")
_DO = TypeVar("_DO")

_logger = logging.getLogger(__name__)


class Version(namedtuple("Version", ["load", "save"])):
    """A dataset version: ``load`` (``None``: latest) and ``save`` (``None``: now)."""

    __slots__ = ()


def generate_timestamp() -> str:
    """The current UTC time as a version string, to the millisecond."""
    stamp = datetime.now(tz=UTC).strftime(VERSION_FORMAT)
    return stamp[:-4] + stamp[-1:]  # drop microseconds, keep the "Z"


def _load_error(dataset: Any, exc: BaseException) -> DatasetError:
    return DatasetError(f"Failed while loading data from dataset {dataset!s}.\n{exc!s}")


def _save_error(dataset: Any, exc: BaseException) -> DatasetError:
    return DatasetError(f"Failed while saving data to dataset {dataset!s}.\n{exc!s}")


def _exists_error(dataset: Any, exc: BaseException) -> DatasetError:
    return DatasetError(f"Failed during exists check for dataset {dataset!s}.\n{exc!s}")


_NONE_SAVE_MESSAGE = "Saving 'None' to a 'Dataset' is not allowed"


_F = TypeVar("_F", bound="Callable[..., Any]")


def _placeholder(func: _F) -> _F:
    """Mark ``func`` as a base-class method that subclasses are meant to replace.

    ``__init_subclass__`` derives the missing faces (``load`` from ``_load`` or
    ``_aload``, ...) only where a class still has the placeholder. A marker, not
    the class name: a user's ``AbstractParquetDataset`` implements real methods.
    """
    func.__dagloop_placeholder__ = True  # type: ignore[attr-defined]
    return func


def _is_placeholder(func: Any) -> bool:
    """Whether ``func`` is a placeholder marked by :func:`_placeholder`."""
    return bool(getattr(func, "__dagloop_placeholder__", False))


def _native(cls: type, name: str) -> bool:
    """Whether ``cls`` implements the coroutine method ``name`` itself (not a base stub)."""
    func = getattr(cls, name, None)
    return inspect.iscoroutinefunction(func) and not _is_placeholder(func)


def _bridge_to(method: str, *, takes_data: bool = False) -> Callable[..., Any]:
    """A sync method that runs the async ``method`` of the same dataset."""
    if takes_data:

        def bridged_save(self: Any, data: Any) -> Any:
            return run_sync(getattr(self, method), data)

        bridged: Callable[..., Any] = bridged_save
    else:

        def bridged_call(self: Any) -> Any:
            return run_sync(getattr(self, method))

        bridged = bridged_call
    bridged.__dagloop_bridged__ = True  # type: ignore[attr-defined]
    return bridged


def _is_bridged(func: Any) -> bool:
    return bool(getattr(func, "__dagloop_bridged__", False))


class AbstractDataset(abc.ABC, Generic[_DI, _DO]):
    """Base class of every dataset: sync and async load/save with uniform errors.

    Subclass contract: implement ``load``/``save`` (or ``_load``/``_save``) and
    ``_describe``; optionally ``_exists`` and ``_release``. Async-native datasets
    implement ``_aload``/``_asave`` (and optionally ``_aexists``) instead of the
    sync methods.
    """

    #: Persistent by default; in-memory datasets set this to True.
    _EPHEMERAL = False
    #: Whether the sync I/O is cheap enough to run on the event loop thread.
    _INLINE_IO: bool = False
    # Set for each subclass by __init_subclass__: which async methods are native.
    _ASYNC_LOAD: ClassVar[bool] = False
    _ASYNC_SAVE: ClassVar[bool] = False
    _ASYNC_EXISTS: ClassVar[bool] = False
    # Set for each subclass too: ``aload``/``asave``/``arelease`` are this class's
    # own (they call the sync method), so a catalog may call that directly when
    # the data is in memory (``_INLINE_IO``), with no coroutine in between.
    _PLAIN_ALOAD: ClassVar[bool] = False
    _PLAIN_ASAVE: ClassVar[bool] = False
    _PLAIN_ARELEASE: ClassVar[bool] = False

    @classmethod
    def from_config(
        cls,
        name: str,
        config: dict[str, Any],
        load_version: str | None = None,
        save_version: str | None = None,
    ) -> AbstractDataset[Any, Any]:
        """Create a dataset from its catalog configuration.

        Args:
            name: The dataset's name, for error messages.
            config: The config, with a ``type`` key and constructor arguments.
            load_version: Version to load, for versioned datasets.
            save_version: Version to save, for versioned datasets.

        Raises:
            DatasetError: When the config cannot be parsed or the dataset built.
        """
        try:
            class_obj, config = parse_dataset_definition(
                config, load_version, save_version
            )
        except Exception as exc:
            raise DatasetError(
                f"An exception occurred when parsing config for dataset '{name}':\n{exc!s}"
            ) from exc
        qualified = f"{class_obj.__module__}.{class_obj.__qualname__}"
        try:
            dataset: AbstractDataset[Any, Any] = class_obj(**config)
        except TypeError as err:
            raise DatasetError(
                f"\n{err}.\nDataset '{name}' must only contain arguments valid for the "
                f"constructor of '{qualified}'."
            ) from err
        except Exception as err:
            raise DatasetError(
                f"\n{err}.\nFailed to instantiate dataset '{name}' of type '{qualified}'."
            ) from err
        return dataset

    def _init_config(self) -> dict[str, Any]:
        """The config that recreates this dataset (``type`` plus init arguments)."""
        config: dict[str, Any] = {
            TYPE_KEY: f"{type(self).__module__}.{type(self).__name__}"
        }
        config.update(getattr(self, "_init_args", None) or {})
        if type(self).__name__ == "CachedDataset":
            wrapped = config.pop("dataset")
            wrapped_config: dict[str, Any] = {}
            if isinstance(wrapped, dict):
                wrapped_config = wrapped
            elif hasattr(wrapped, "_init_config"):
                wrapped_config = wrapped._init_config()
            if VERSIONED_FLAG_KEY in wrapped_config:
                config[VERSIONED_FLAG_KEY] = wrapped_config.pop(VERSIONED_FLAG_KEY)
            wrapped_config.pop("metadata", None)
            config["dataset"] = wrapped_config
        if config.pop(VERSION_KEY, None):
            config[VERSIONED_FLAG_KEY] = True
        config.pop("metadata", None)
        return config

    #: The logger datasets write to (a class attribute: read on every load and save).
    _logger: ClassVar[logging.Logger] = _logger

    @property
    def _init_args(self) -> dict[str, Any]:
        """The constructor arguments this dataset was built with."""
        cached = self.__dict__.get("_init_args")
        if cached is None:
            call = self.__dict__.get("_init_call")
            cached = _bind_init_args(type(self), *call) if call else {}
            self.__dict__["_init_args"] = cached
        return cast("dict[str, Any]", cached)

    @_init_args.setter
    def _init_args(self, value: dict[str, Any]) -> None:
        self.__dict__["_init_args"] = value

    # ------------------------------------------------------------ sync wrappers

    @classmethod
    def _load_wrapper(cls, load_func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """Wrap a subclass's ``load``: debug log, errors become DatasetError."""

        @wraps(load_func)
        def load(self: Any) -> Any:
            if self._logger.isEnabledFor(logging.DEBUG):  # hot path: one call, not two
                self._logger.debug("Loading %s", self)
            try:
                return load_func(self)
            except DatasetError:
                raise
            except Exception as exc:
                raise _load_error(self, exc) from exc

        load.__loadwrapped__ = True  # type: ignore[attr-defined]
        return load

    @classmethod
    def _save_wrapper(
        cls, save_func: Callable[[Any, Any], None]
    ) -> Callable[[Any, Any], None]:
        """Wrap a subclass's ``save``: reject None, errors become DatasetError."""

        @wraps(save_func)
        def save(self: Any, data: Any) -> None:
            if data is None:
                raise DatasetError(_NONE_SAVE_MESSAGE)
            try:
                if self._logger.isEnabledFor(logging.DEBUG):
                    self._logger.debug("Saving %s", self)
                save_func(self, data)
            except (DatasetError, FileNotFoundError, NotADirectoryError):
                raise
            except Exception as exc:
                raise _save_error(self, exc) from exc

        save.__savewrapped__ = True  # type: ignore[attr-defined]
        return save

    def __init_subclass__(cls, **kwargs: Any) -> None:
        _record_init_args(cls)
        super().__init_subclass__(**kwargs)
        cls._ASYNC_LOAD = _native(cls, "_aload")
        cls._ASYNC_SAVE = _native(cls, "_asave")
        cls._ASYNC_EXISTS = _native(cls, "_aexists")
        cls._PLAIN_ALOAD = not cls._ASYNC_LOAD and cls.aload is AbstractDataset.aload
        cls._PLAIN_ASAVE = not cls._ASYNC_SAVE and cls.asave is AbstractDataset.asave
        cls._PLAIN_ARELEASE = cls.arelease is AbstractDataset.arelease
        if hasattr(cls, "_load") and not _is_placeholder(cls._load):
            cls.load = cls._load  # type: ignore[method-assign]
        if hasattr(cls, "_save") and not _is_placeholder(cls._save):
            cls.save = cls._save  # type: ignore[method-assign]
        if cls._ASYNC_LOAD and (_is_placeholder(cls.load) or _is_bridged(cls.load)):
            cls.load = _bridge_to("aload")  # type: ignore[method-assign]
        if cls._ASYNC_SAVE and (_is_placeholder(cls.save) or _is_bridged(cls.save)):
            cls.save = _bridge_to("asave", takes_data=True)  # type: ignore[method-assign]
        if cls._ASYNC_EXISTS and _is_placeholder(cls._exists):
            cls._exists = _bridge_to("_aexists")  # type: ignore[method-assign]
        cls._wrap_sync_methods()

    @classmethod
    def _wrap_sync_methods(cls) -> None:
        """Wrap ``load``/``save`` once; bridged methods are already wrapped async."""
        load: Any = cls.load
        save: Any = cls.save
        if not _is_placeholder(load) and not _is_bridged(load):
            if getattr(load, "__loadwrapped__", False):
                load = load.__wrapped__
            cls.load = cls._load_wrapper(load)  # type: ignore[method-assign,assignment]
        if not _is_placeholder(save) and not _is_bridged(save):
            if getattr(save, "__savewrapped__", False):
                save = save.__wrapped__
            cls.save = cls._save_wrapper(save)  # type: ignore[method-assign,assignment]

    # --------------------------------------------------------------------- repr

    def _pretty_repr(self, object_description: dict[str, Any]) -> str:
        parts = [
            f"{key}={pprint.pformat(value, sort_dicts=False, compact=True, depth=2, width=sys.maxsize)}"
            for key, value in object_description.items()
            if value is not None
        ]
        return f"{type(self).__module__}.{type(self).__name__}({', '.join(parts)})"

    def __repr__(self) -> str:
        description = self._describe()
        if isinstance(description, dict) and all(
            isinstance(k, str) for k in description
        ):
            return self._pretty_repr(description)
        name = f"{type(self).__module__}.{type(self).__name__}"
        self._logger.warning(
            f"'{name}' is a subclass of AbstractDataset and it must implement the "
            f"'_describe' method following the signature of AbstractDataset's '_describe'."
        )
        return f"{name}()"

    # ------------------------------------------------------------- the contract

    @_placeholder
    @abc.abstractmethod
    def load(self) -> _DO:
        """Load and return the data."""
        raise NotImplementedError(
            f"'{self.__class__.__name__}' is a subclass of AbstractDataset and "
            f"it must implement the 'load' method"
        )

    @_placeholder
    @abc.abstractmethod
    def save(self, data: _DI) -> None:
        """Save ``data``."""
        raise NotImplementedError(
            f"'{self.__class__.__name__}' is a subclass of AbstractDataset and "
            f"it must implement the 'save' method"
        )

    @abc.abstractmethod
    def _describe(self) -> dict[str, Any]:
        raise NotImplementedError(
            f"'{self.__class__.__name__}' is a subclass of AbstractDataset and "
            f"it must implement the '_describe' method"
        )

    def exists(self) -> bool:
        """Whether the data exists in storage.

        Raises:
            DatasetError: When the check itself fails.
        """
        try:
            self._logger.debug("Checking whether target of %s exists", self)
            return self._exists()
        except Exception as exc:
            raise _exists_error(self, exc) from exc

    @_placeholder
    def _exists(self) -> bool:
        self._logger.warning(
            "'exists()' not implemented for '%s'. Assuming output does not exist.",
            self.__class__.__name__,
        )
        return False

    def release(self) -> None:
        """Drop any cached data.

        Raises:
            DatasetError: When releasing fails.
        """
        try:
            if self._logger.isEnabledFor(logging.DEBUG):
                self._logger.debug("Releasing %s", self)
            self._release()
        except Exception as exc:
            raise DatasetError(
                f"Failed during release for dataset {self!s}.\n{exc!s}"
            ) from exc

    def _release(self) -> None:
        return None

    def _copy(self, **overwrite_params: Any) -> AbstractDataset[_DI, _DO]:
        """A deep copy with some attributes replaced."""
        dataset_copy = copy.deepcopy(self)
        for name, value in overwrite_params.items():
            setattr(dataset_copy, name, value)
        return dataset_copy

    # -------------------------------------------------------------------- async

    async def aload(self) -> _DO:
        """Load the data without blocking the event loop."""
        if not self._ASYNC_LOAD:
            return self.load() if self._INLINE_IO else await in_io_thread(self.load)
        self._logger.debug("Loading %s", self)
        try:
            result: _DO = await self._aload()  # type: ignore[attr-defined]
        except DatasetError:
            raise
        except Exception as exc:
            raise _load_error(self, exc) from exc
        return result

    async def asave(self, data: _DI) -> None:
        """Save ``data`` without blocking the event loop."""
        if not self._ASYNC_SAVE:
            if self._INLINE_IO:
                self.save(data)
            else:
                await in_io_thread(self.save, data)
            return
        if data is None:
            raise DatasetError(_NONE_SAVE_MESSAGE)
        self._logger.debug("Saving %s", self)
        try:
            await self._asave(data)  # type: ignore[attr-defined]
        except (DatasetError, FileNotFoundError, NotADirectoryError):
            raise
        except Exception as exc:
            raise _save_error(self, exc) from exc

    async def aexists(self) -> bool:
        """Whether the data exists, checked without blocking the event loop."""
        if not self._ASYNC_EXISTS:
            return self.exists() if self._INLINE_IO else await in_io_thread(self.exists)
        self._logger.debug("Checking whether target of %s exists", self)
        try:
            return bool(await self._aexists())  # type: ignore[attr-defined]
        except Exception as exc:
            raise _exists_error(self, exc) from exc

    async def arelease(self) -> None:
        """Release the dataset without blocking the event loop."""
        if self._INLINE_IO:
            self.release()
        else:
            await in_io_thread(self.release)


def _record_init_args(cls: type) -> None:
    """Wrap ``cls.__init__`` to remember how the dataset was built.

    ``DataCatalog.to_config`` reads the arguments back as ``self._init_args``.
    Binding them to the signature is deferred to that first read: building
    datasets is on the path of every run, writing config is not.
    """
    init_func: Callable[..., None] = getattr(cls, "__init__")  # noqa: B009

    @wraps(init_func)
    def new_init(self: Any, *args: Any, **kwargs: Any) -> None:
        init_func(self, *args, **kwargs)
        self.__dict__["_init_call"] = (args, kwargs)
        self.__dict__.pop("_init_args", None)

    cls.__init__ = new_init  # type: ignore[misc]


def _bind_init_args(cls: type, args: Any, kwargs: Any) -> dict[str, Any]:
    """The arguments of a ``cls.__init__`` call by parameter name, defaults included."""
    # Follows the wrapper (``__wrapped__``) to the original signature.
    signature = inspect.signature(getattr(cls, "__init__"))  # noqa: B009
    bound = signature.bind(None, *args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    arguments.pop(next(iter(signature.parameters)), None)  # ``self``
    return arguments


# ------------------------------------------------------------------- versioning

_CONSISTENCY_WARNING = (
    "Save version '{}' did not match load version '{}' for {}. This is strongly "
    "discouraged due to inconsistencies it may cause between 'save' and "
    "'load' operations. Please refrain from setting exact load version for "
    "intermediate datasets where possible to avoid this warning."
)


def _local_exists(filepath: str) -> bool:
    return Path(filepath).exists()


class AbstractVersionedDataset(AbstractDataset[_DI, _DO], abc.ABC):
    """A dataset stored as ``<filepath>/<version>/<filename>``, one folder per save.

    Loads use the pinned load version or the newest existing one; saves use the
    pinned save version or a timestamp, and never overwrite an existing version.
    """

    def __init__(
        self,
        filepath: PurePosixPath,
        version: Version | None,
        exists_function: Callable[[str], bool] | None = None,
        glob_function: Callable[[str], Any] | None = None,
    ) -> None:
        """Set up versioning for ``filepath``.

        Args:
            filepath: Path of the unversioned dataset.
            version: The version to load/save, or ``None`` for no versioning.
            exists_function: Checks that a path exists (default: local filesystem).
            glob_function: Lists paths matching a pattern (default: local glob).
        """
        self._filepath = filepath
        self._version = version
        self._exists_function = exists_function or _local_exists
        self._glob_function = glob_function or iglob
        # The resolved "load" and "save" versions, until the next save or release.
        self._version_cache: dict[str, str] = {}

    def _fetch_latest_load_version(self) -> str:
        if "load" in self._version_cache:
            return self._version_cache["load"]
        pattern = str(self._get_versioned_path("*"))
        try:
            version_paths = sorted(self._glob_function(pattern), reverse=True)
        except Exception as exc:
            raise VersionNotFoundError(
                f"Did not find any versions for {self}. This could be "
                f"due to insufficient permission. Exception: {exc}"
            ) from exc
        newest = next((p for p in version_paths if self._exists_function(p)), None)
        if not newest:
            raise VersionNotFoundError(f"Did not find any versions for {self}")
        self._version_cache["load"] = PurePath(newest).parent.name
        return self._version_cache["load"]

    def _fetch_latest_save_version(self) -> str:
        return self._version_cache.setdefault("save", generate_timestamp())

    def resolve_load_version(self) -> str | None:
        """The exact version to load: pinned, else the newest saved (None if unversioned)."""
        if not self._version:
            return None
        if self._version.load:
            return str(self._version.load)
        return self._fetch_latest_load_version()

    def _get_load_path(self) -> PurePosixPath:
        if not self._version:
            return self._filepath
        return self._get_versioned_path(self.resolve_load_version())  # type: ignore[arg-type]

    def resolve_save_version(self) -> str | None:
        """The exact version to save: pinned, else a timestamp (None if unversioned)."""
        if not self._version:
            return None
        if self._version.save:
            return str(self._version.save)
        return self._fetch_latest_save_version()

    def _get_save_path(self) -> PurePosixPath:
        if not self._version:
            return self._filepath
        path = self._get_versioned_path(self.resolve_save_version())  # type: ignore[arg-type]
        if self._exists_function(str(path)):
            raise DatasetError(
                f"Save path '{path}' for {self!s} must not exist if versioning is enabled."
            )
        return path

    def _get_versioned_path(self, version: str) -> PurePosixPath:
        return self._filepath / version / self._filepath.name

    @classmethod
    def _load_wrapper(cls, load_func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        @wraps(load_func)
        def load(self: Any) -> Any:
            self.resolve_load_version()  # fix the load version before loading
            return load_func(self)

        return super()._load_wrapper(load)

    @classmethod
    def _save_wrapper(
        cls, save_func: Callable[[Any, Any], None]
    ) -> Callable[[Any, Any], None]:
        wrapped = super()._save_wrapper(save_func)

        @wraps(save_func)
        def save(self: Any, data: Any) -> None:
            save_version = self._start_versioned_save()
            try:
                wrapped(self, data)
            except (FileNotFoundError, NotADirectoryError) as err:
                raise self._clash_error() from err
            self._finish_versioned_save(save_version, self.resolve_load_version())

        save.__savewrapped__ = True  # type: ignore[attr-defined]
        return save

    def _start_versioned_save(self) -> str | None:
        self._version_cache.clear()
        return self.resolve_save_version()

    def _finish_versioned_save(
        self, save_version: str | None, load_version: str | None
    ) -> None:
        if load_version != save_version:
            warnings.warn(
                _CONSISTENCY_WARNING.format(save_version, load_version, str(self)),
                stacklevel=3,
            )
            self._version_cache.clear()

    def _clash_error(self) -> DatasetError:
        name, parent = self._filepath.name, self._filepath.parent.as_posix()
        return DatasetError(
            f"Cannot save versioned dataset '{name}' to '{parent}' because a file with "
            f"the same name already exists in the directory. This is likely because "
            f"versioning was enabled on a dataset already saved previously. Either "
            f"remove '{name}' from the directory or manually convert it into a "
            f"versioned dataset by placing it in a versioned directory (e.g. with "
            f"default versioning format "
            f"'{self._filepath.as_posix()}/YYYY-MM-DDThh.mm.ss.sssZ/{name}')."
        )

    def exists(self) -> bool:
        """Whether the data exists; ``False`` when no version has been saved yet."""
        self._logger.debug("Checking whether target of %s exists", self)
        try:
            return self._exists()
        except VersionNotFoundError:
            return False
        except Exception as exc:
            raise _exists_error(self, exc) from exc

    def _release(self) -> None:
        super()._release()
        self._version_cache.clear()

    # Async-native versioned datasets resolve versions off the loop (glob is I/O).

    async def aload(self) -> _DO:
        """Load the resolved version without blocking the event loop."""
        if self._ASYNC_LOAD and self._version:
            await in_io_thread(self.resolve_load_version)
        return await super().aload()

    async def asave(self, data: _DI) -> None:
        """Save a new version without blocking the event loop."""
        if not self._ASYNC_SAVE or not self._version:
            await super().asave(data)
            return
        save_version = self._start_versioned_save()
        try:
            await super().asave(data)
        except (FileNotFoundError, NotADirectoryError) as err:
            raise self._clash_error() from err
        load_version = await in_io_thread(self.resolve_load_version)
        self._finish_versioned_save(save_version, load_version)

    async def aexists(self) -> bool:
        """Whether the data exists; ``False`` when no version has been saved yet."""
        if not self._ASYNC_EXISTS:
            return await super().aexists()
        self._logger.debug("Checking whether target of %s exists", self)
        try:
            return bool(await self._aexists())  # type: ignore[attr-defined]
        except VersionNotFoundError:
            return False
        except Exception as exc:
            raise _exists_error(self, exc) from exc


# ---------------------------------------------------------- config definitions


def parse_dataset_definition(
    config: dict[str, Any],
    load_version: str | None = None,
    save_version: str | None = None,
) -> tuple[type[Any], dict[str, Any]]:
    """Resolve a dataset config into ``(dataset class, constructor arguments)``.

    A string ``type`` is looked up as ``dagloop.io.<type>``, then
    ``kedro_datasets.<type>``, then as a full dotted path; ``kedro.io.X`` names
    dagloop's own ``X``. Any class implementing the dataset protocol is accepted,
    including Kedro's own ``AbstractDataset`` subclasses.

    Raises:
        DatasetError: When the type cannot be found or is not a dataset.
    """
    config = copy.deepcopy(config)
    dataset_type = config.pop(TYPE_KEY)
    class_obj: Any = None
    if isinstance(dataset_type, str):
        if dataset_type.endswith("Set"):
            warnings.warn(
                f"Since kedro-datasets 2.0, 'Dataset' is spelled with a lowercase 's'. "
                f"Got '{dataset_type}'.",
                UserWarning,
                stacklevel=2,
            )
        class_obj = _for_entry(_find_class(dataset_type), dataset_type, config)
    else:
        class_obj = dataset_type
    if not _is_dataset_class(class_obj):
        name = f"{getattr(class_obj, '__module__', '')}.{getattr(class_obj, '__qualname__', class_obj)}"
        raise DatasetError(
            f"Dataset type '{name}' is invalid: all dataset types must extend "
            f"'AbstractDataset'."
        )
    if VERSION_KEY in config:
        _logger.warning(
            "'%s' attribute removed from dataset configuration since it is a "
            "reserved word and cannot be directly specified",
            VERSION_KEY,
        )
        del config[VERSION_KEY]
    if config.pop(VERSIONED_FLAG_KEY, False) or getattr(
        class_obj, VERSIONED_FLAG_KEY, False
    ):
        config[VERSION_KEY] = Version(
            load_version, save_version or generate_timestamp()
        )
    return class_obj, config


def _for_entry(class_obj: Any, dataset_type: str, config: dict[str, Any]) -> Any:
    """The class a short ``type`` means for this entry.

    ``pandas.CSVDataset`` (likewise ``pickle.PickleDataset``, ``json.JSONDataset``,
    ``text.TextDataset``) finds dagloop's async local-file class first. An entry
    written for kedro-datasets' class that dagloop's cannot honour (a remote
    path, ``credentials``, ``fs_args``, any argument it does not take) gets
    kedro-datasets' class, as it would under Kedro. A full path is taken as
    written.

    Raises:
        DatasetError: When kedro-datasets' class is needed but not installed.
    """
    cannot_honour = getattr(class_obj, "_cannot_honour", None)
    if cannot_honour is None or dataset_type.startswith("dagloop."):
        return class_obj
    why = cannot_honour(config)
    if why is None:
        return class_obj
    kedro_type = class_obj._KEDRO_TYPE
    found, error = _load_obj(kedro_type)
    if found is None:
        raise DatasetError(
            f"dagloop's {class_obj.__name__} cannot serve this entry: {why}. "
            f"kedro-datasets' class can, and is used for such entries, but it "
            f"cannot be imported ({error}). Install it: "
            f"pip install {_install_hint(kedro_type, config)}"
        )
    return found


#: The fsspec package each remote protocol needs, as kedro-datasets documents.
_FILESYSTEM_PACKAGES = {
    "s3": "s3fs", "s3a": "s3fs", "s3n": "s3fs",
    "gs": "gcsfs", "gcs": "gcsfs",
    "abfs": "adlfs", "abfss": "adlfs", "az": "adlfs", "adl": "adlfs",
    "http": "aiohttp", "https": "aiohttp",
}  # fmt: skip


def _install_hint(kedro_type: str, config: dict[str, Any]) -> str:
    """What to pip install for ``kedro_type`` on this entry:
    ``'kedro-datasets[pandas-csvdataset]' s3fs`` for a CSV file on S3."""
    _, group, name = kedro_type.rsplit(".", 2)
    hint = f"'kedro-datasets[{group}-{name.lower()}]'"
    filepath = config.get("filepath")
    protocol = _parse_filepath(str(filepath))["protocol"] if filepath else ""
    package = _FILESYSTEM_PACKAGES.get(protocol)
    return f"{hint} {package}" if package else hint


_PROTOCOL_METHODS = ("load", "save", "_describe")


def _is_dataset(obj: Any) -> bool:
    """Whether ``obj`` is a dataset: dagloop's, Kedro's, or protocol-shaped."""
    if isinstance(obj, AbstractDataset):
        return True
    return all(callable(getattr(obj, m, None)) for m in _PROTOCOL_METHODS)


def _is_dataset_class(class_obj: Any) -> bool:
    """Whether ``class_obj`` is a dataset class: ours, Kedro's, or protocol-shaped."""
    if not isinstance(class_obj, type):
        return False
    if issubclass(class_obj, AbstractDataset):
        return True
    return all(callable(getattr(class_obj, m, None)) for m in _PROTOCOL_METHODS)


def _find_class(dataset_type: str) -> Any:
    if len(dataset_type.strip(".")) != len(dataset_type):
        raise DatasetError(
            "'type' class path does not support relative paths or paths ending with a dot."
        )
    candidates = [prefix + dataset_type for prefix in _DEFAULT_PACKAGES]
    if dataset_type.startswith("kedro.io."):
        # Kedro configs name Kedro's own classes; dagloop provides the same ones.
        candidates.insert(0, "dagloop.io." + dataset_type.removeprefix("kedro.io."))
    error: str | None = None
    for candidate in candidates:
        found, error = _load_obj(candidate)
        if found is not None:
            return found
    hint = (
        "\nHint: If you are trying to use a dataset from `kedro-datasets`, "
        "make sure that the package is installed in your current environment. "
        "You can do so by running `pip install kedro-datasets` or "
        "`pip install kedro-datasets[<dataset-group>]` to install `kedro-datasets` along "
        "with related dependencies for the specific dataset group."
    )
    raise DatasetError(
        f"{error or f'Class {dataset_type!r} not found, is this a typo?'}{hint}"
    )


_DEPENDENCY_DOCS = (
    "https://github.com/dagloop/dagloop/blob/main/docs/datasets.md"
    "#in-the-catalog-kedro-style-type-names"
)


#: Modules under the default prefixes that failed to import, with the reason.
#: Every undeclared dataset of every run looks up its type through these prefixes
#: (``dagloop.io.dagloop.io...`` first); searching the file system each time for a
#: module that is not there would dominate a run's start-up.
_MISSING_MODULES: dict[str, str] = {}


def _load_obj(class_path: str) -> tuple[Any | None, str | None]:
    """Import ``class_path``; return ``(class, None)`` or ``(None, why not)``."""
    module_path, _, class_name = class_path.rpartition(".")
    if module_path in _MISSING_MODULES:
        return None, _missing_module_reason(_MISSING_MODULES[module_path], class_path)
    try:
        available = load_obj(f"{module_path}.__all__")
    except (ModuleNotFoundError, AttributeError, ValueError):
        available = None
    try:
        return load_obj(class_path), None
    except ValueError as exc:
        return (
            None,
            f"{exc}. Invalid dataset path: '{class_path}'. Please check if it's correct.",
        )
    except AttributeError as exc:
        if available and class_name in available:
            raise DatasetError(
                f"{exc}. Please see the documentation on how to install relevant "
                f"dependencies for {class_path}:\n{_DEPENDENCY_DOCS}"
            ) from exc
        return (
            None,
            f"Dataset '{class_name}' not found in '{module_path}'. "
            f"Make sure the dataset name is correct.",
        )
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        # Only when the path itself is missing, not a dependency of a real module.
        if module_path.startswith(("dagloop.io.", "kedro_datasets.")) and (
            module_path == missing or module_path.startswith(missing + ".")
        ):
            _MISSING_MODULES[module_path] = str(exc)
        return None, _missing_module_reason(str(exc), class_path)


def _missing_module_reason(error: str, class_path: str) -> str:
    return (
        f"{error}. Please install the missing dependencies for {class_path}:\n"
        f"{_DEPENDENCY_DOCS}"
    )
