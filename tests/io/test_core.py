"""Tests for ``dagloop.io.core``: the dataset contract, config parsing and versioning."""

from __future__ import annotations

import itertools
import logging
import re
import sys
import threading
import types
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest

import dagloop.io.core as core
from dagloop.io import (
    AbstractDataset,
    AbstractVersionedDataset,
    CachedDataset,
    DatasetError,
    MemoryDataset,
    SharedMemoryDataset,
    Version,
    VersionNotFoundError,
)
from dagloop.io.core import (
    generate_timestamp,
    get_filepath_str,
    get_protocol_and_path,
    is_parameter,
    parse_dataset_definition,
    validate_on_forbidden_chars,
)

LOGGER = "dagloop.io.core"
MODULE = __name__
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z$")
KEDRO_DATASETS_HINT = (
    "\nHint: If you are trying to use a dataset from `kedro-datasets`, "
    "make sure that the package is installed in your current environment. "
    "You can do so by running `pip install kedro-datasets` or "
    "`pip install kedro-datasets[<dataset-group>]` to install `kedro-datasets` "
    "along with related dependencies for the specific dataset group."
)


# ------------------------------------------------------------------ datasets


class StoreDataset(AbstractDataset[Any, Any]):
    """A sync dataset keeping its data in an attribute; records the I/O threads."""

    def __init__(self, data: Any = None, label: str = "store", metadata: Any = None):
        self.data = data
        self.label = label
        self.metadata = metadata
        self.threads: dict[str, int] = {}
        self.released = False

    def load(self) -> Any:
        self.threads["load"] = threading.get_ident()
        return self.data

    def save(self, data: Any) -> None:
        self.threads["save"] = threading.get_ident()
        self.data = data

    def _exists(self) -> bool:
        self.threads["exists"] = threading.get_ident()
        return self.data is not None

    def _release(self) -> None:
        self.threads["release"] = threading.get_ident()
        self.released = True

    def _describe(self) -> dict[str, Any]:
        return {"label": self.label}


class ChildStoreDataset(StoreDataset):
    """Inherits wrapped ``load``/``save``; they must not be wrapped twice."""


class LegacyDataset(AbstractDataset[Any, Any]):
    """Implements the legacy private ``_load``/``_save`` names."""

    def __init__(self) -> None:
        self.data: Any = "initial"

    def _load(self) -> Any:
        return self.data

    def _save(self, data: Any) -> None:
        self.data = data

    def _describe(self) -> dict[str, Any]:
        return {}


class FailingDataset(AbstractDataset[Any, Any]):
    """Every operation raises the given exception."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.save_calls = 0

    def load(self) -> Any:
        raise self.error

    def save(self, data: Any) -> None:
        self.save_calls += 1
        raise self.error

    def _exists(self) -> bool:
        raise self.error

    def _release(self) -> None:
        raise self.error

    def _describe(self) -> dict[str, Any]:
        return {"error": type(self.error).__name__}


class NoExistsDataset(AbstractDataset[Any, Any]):
    def load(self) -> Any:
        return 1

    def save(self, data: Any) -> None:
        pass

    def _describe(self) -> dict[str, Any]:
        return {}


class DescribedDataset(AbstractDataset[Any, Any]):
    """``_describe`` returns whatever it was given."""

    def __init__(self, description: Any) -> None:
        self.description = description

    def load(self) -> Any:
        return None

    def save(self, data: Any) -> None:
        pass

    def _describe(self) -> Any:
        return self.description


class ConfigurableDataset(AbstractDataset[Any, Any]):
    """Takes positional, keyword, defaulted and variadic keyword arguments."""

    def __init__(
        self,
        filepath: str,
        load_args: dict[str, Any] | None = None,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        self.filepath = filepath
        self.load_args = load_args
        self.version = version
        self.nested = {"deep": [1, 2, 3]}

    def load(self) -> Any:
        return self.filepath

    def save(self, data: Any) -> None:
        pass

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self.filepath}


class ExplodingDataset(AbstractDataset[Any, Any]):
    """Its constructor fails with a ValueError."""

    def __init__(self, **kwargs: Any) -> None:
        raise ValueError("constructor exploded")

    def load(self) -> Any:
        return None

    def save(self, data: Any) -> None:
        pass

    def _describe(self) -> dict[str, Any]:
        return {}


class AlwaysVersionedDataset(ConfigurableDataset):
    """A class whose ``versioned`` attribute asks for versioning by default."""

    versioned = True


class NotADataset:
    pass


class AsyncStoreDataset(AbstractDataset[Any, Any]):
    """An async-native dataset: only ``_aload``/``_asave``/``_aexists``."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.data: Any = None
        self.error = error
        self.threads: list[int] = []

    async def _aload(self) -> Any:
        self.threads.append(threading.get_ident())
        await anyio.lowlevel.checkpoint()
        if self.error is not None:
            raise self.error
        return self.data

    async def _asave(self, data: Any) -> None:
        self.threads.append(threading.get_ident())
        await anyio.lowlevel.checkpoint()
        if self.error is not None:
            raise self.error
        self.data = data

    async def _aexists(self) -> bool:
        self.threads.append(threading.get_ident())
        await anyio.lowlevel.checkpoint()
        if self.error is not None:
            raise self.error
        return self.data is not None

    def _describe(self) -> dict[str, Any]:
        return {"kind": "async"}


class AbstractParquetDataset(AbstractDataset[Any, Any]):
    """A user's base class named ``Abstract*``: its ``_load``/``_save`` are real."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.data: Any = "initial"
        self.error = error
        self.calls: list[str] = []

    def _load(self) -> Any:
        self.calls.append("_load")
        if self.error is not None:
            raise self.error
        return self.data

    def _save(self, data: Any) -> None:
        self.calls.append("_save")
        if self.error is not None:
            raise self.error
        self.data = data

    def _describe(self) -> dict[str, Any]:
        return {}


class ParquetDataset(AbstractParquetDataset):
    """Inherits the ``_load``/``_save`` of an ``Abstract*``-named user class."""


class AbstractTableDataset(AbstractDataset[Any, Any]):
    """A user's ``Abstract*`` class with public ``load``/``save`` and an async exists."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.data: Any = None
        self.error = error
        self.calls: list[str] = []

    def load(self) -> Any:
        self.calls.append("load")
        if self.error is not None:
            raise self.error
        return self.data

    def save(self, data: Any) -> None:
        self.calls.append("save")
        if self.error is not None:
            raise self.error
        self.data = data

    async def _aexists(self) -> bool:
        self.calls.append("_aexists")
        await anyio.lowlevel.checkpoint()
        return self.data is not None

    def _describe(self) -> dict[str, Any]:
        return {}


class TableDataset(AbstractTableDataset):
    """Inherits the methods of an ``Abstract*``-named user class."""


class AbstractAsyncParquetDataset(AbstractDataset[Any, Any]):
    """A user's async-native ``Abstract*`` class: only ``_aload``/``_asave``/``_aexists``."""

    def __init__(self) -> None:
        self.data: Any = None
        self.calls: list[str] = []

    async def _aload(self) -> Any:
        self.calls.append("_aload")
        await anyio.lowlevel.checkpoint()
        return self.data

    async def _asave(self, data: Any) -> None:
        self.calls.append("_asave")
        await anyio.lowlevel.checkpoint()
        self.data = data

    async def _aexists(self) -> bool:
        self.calls.append("_aexists")
        await anyio.lowlevel.checkpoint()
        return self.data is not None

    def _describe(self) -> dict[str, Any]:
        return {}


class AsyncParquetDataset(AbstractAsyncParquetDataset):
    """Inherits the async methods of an ``Abstract*``-named user class."""


class TextVersionedDataset(AbstractVersionedDataset[str, str]):
    """A versioned dataset storing text in local files."""

    def __init__(
        self,
        filepath: str,
        version: Version | None = None,
        glob_function: Any = None,
    ) -> None:
        super().__init__(PurePosixPath(filepath), version, glob_function=glob_function)

    def load(self) -> str:
        return Path(self._get_load_path()).read_text()

    def save(self, data: str) -> None:
        path = Path(self._get_save_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data)

    def _exists(self) -> bool:
        return Path(self._get_load_path()).exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version}


def write_version(base: Path, version: str, text: str) -> None:
    """Create ``base/<version>/<base.name>`` holding ``text``."""
    target = base / version / base.name
    target.parent.mkdir(parents=True)
    target.write_text(text)


# ---------------------------------------------------------- subclass contract


class TestLoadSaveAliasing:
    def test_private_load_and_save_become_the_public_methods(self):
        dataset = LegacyDataset()
        assert dataset.load() == "initial"
        dataset.save("changed")
        assert dataset.load() == "changed"
        assert LegacyDataset.load.__wrapped__ is LegacyDataset.__dict__["_load"]
        assert LegacyDataset.save.__wrapped__ is LegacyDataset.__dict__["_save"]

    def test_aliased_methods_get_the_error_wrappers(self):
        dataset = LegacyDataset()
        with pytest.raises(DatasetError, match="Saving 'None' to a 'Dataset'"):
            dataset.save(None)
        assert LegacyDataset.load.__loadwrapped__ is True
        assert LegacyDataset.save.__savewrapped__ is True

    def test_private_methods_stay_unwrapped(self):
        dataset = LegacyDataset()
        dataset._save(None)
        assert dataset._load() is None

    def test_inherited_methods_are_wrapped_once(self):
        error = ValueError("inner")

        class ChildFailing(FailingDataset):
            pass

        dataset = ChildFailing(error)
        with pytest.raises(DatasetError) as exc_info:
            dataset.load()
        assert str(exc_info.value).count("Failed while loading") == 1
        assert exc_info.value.__cause__ is error
        assert ChildStoreDataset.load.__wrapped__ is StoreDataset.load.__wrapped__
        assert ChildStoreDataset.save.__wrapped__ is StoreDataset.save.__wrapped__

    def test_abstract_methods_must_be_implemented(self):
        class Incomplete(AbstractDataset[Any, Any]):
            def _describe(self) -> dict[str, Any]:
                return {}

        with pytest.raises(TypeError, match="abstract"):
            Incomplete()  # type: ignore[abstract]


class TestAbstractNamedUserDatasets:
    """A user's class named ``Abstract*`` is not mistaken for dagloop's placeholders."""

    @pytest.mark.parametrize("cls", [AbstractParquetDataset, ParquetDataset])
    def test_private_load_and_save_are_used(self, cls):
        dataset = cls()
        assert dataset.load() == "initial"
        dataset.save("changed")
        assert dataset.load() == "changed"
        assert dataset.calls == ["_load", "_save", "_load"]

    @pytest.mark.parametrize("cls", [AbstractParquetDataset, ParquetDataset])
    def test_private_load_and_save_get_the_error_wrappers(self, cls):
        error = ValueError("bad parquet")
        dataset = cls(error=error)
        with pytest.raises(DatasetError, match="Failed while loading") as load_info:
            dataset.load()
        assert load_info.value.__cause__ is error
        with pytest.raises(DatasetError, match="Failed while saving") as save_info:
            dataset.save(1)
        assert save_info.value.__cause__ is error
        with pytest.raises(DatasetError, match="Saving 'None' to a 'Dataset'"):
            dataset.save(None)
        assert dataset.calls == ["_load", "_save"]

    @pytest.mark.anyio
    @pytest.mark.parametrize("cls", [AbstractParquetDataset, ParquetDataset])
    async def test_async_faces_defer_to_private_load_and_save(self, cls):
        dataset = cls()
        await dataset.asave("async")
        assert await dataset.aload() == "async"
        assert dataset.calls == ["_save", "_load"]

    @pytest.mark.parametrize("cls", [AbstractTableDataset, TableDataset])
    def test_public_load_and_save_get_the_error_wrappers(self, cls):
        error = KeyError("missing")
        dataset = cls(error=error)
        with pytest.raises(DatasetError, match="Failed while loading") as load_info:
            dataset.load()
        assert load_info.value.__cause__ is error
        with pytest.raises(DatasetError, match="Failed while saving") as save_info:
            dataset.save(1)
        assert save_info.value.__cause__ is error

    @pytest.mark.parametrize("cls", [AbstractTableDataset, TableDataset])
    def test_async_exists_backs_the_sync_exists(self, cls, caplog):
        dataset = cls()
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            assert dataset.exists() is False
            dataset.save("rows")
            assert dataset.exists() is True
        assert caplog.records == []
        assert dataset.calls == ["_aexists", "save", "_aexists"]

    @pytest.mark.anyio
    @pytest.mark.parametrize("cls", [AbstractTableDataset, TableDataset])
    async def test_async_faces_use_the_sync_methods_and_async_exists(self, cls):
        dataset = cls()
        await dataset.asave("rows")
        assert await dataset.aload() == "rows"
        assert await dataset.aexists() is True
        assert dataset.calls == ["save", "load", "_aexists"]
        assert (cls._ASYNC_LOAD, cls._ASYNC_SAVE, cls._ASYNC_EXISTS) == (
            False,
            False,
            True,
        )

    @pytest.mark.anyio
    @pytest.mark.parametrize("cls", [AbstractAsyncParquetDataset, AsyncParquetDataset])
    async def test_async_methods_are_used_natively(self, cls):
        dataset = cls()
        assert await dataset.aexists() is False
        await dataset.asave([1, 2])
        assert await dataset.aload() == [1, 2]
        assert dataset.calls == ["_aexists", "_asave", "_aload"]
        assert (cls._ASYNC_LOAD, cls._ASYNC_SAVE, cls._ASYNC_EXISTS) == (True,) * 3

    @pytest.mark.parametrize("cls", [AbstractAsyncParquetDataset, AsyncParquetDataset])
    def test_sync_faces_are_bridged_to_the_async_methods(self, cls):
        dataset = cls()
        assert dataset.exists() is False
        dataset.save("bridged")
        assert dataset.load() == "bridged"
        assert dataset.calls == ["_aexists", "_asave", "_aload"]

    def test_dagloop_placeholders_are_still_recognised(self):
        assert core._is_placeholder(AbstractDataset.load)
        assert core._is_placeholder(AbstractDataset.save)
        assert core._is_placeholder(AbstractDataset._exists)
        assert not core._is_placeholder(AbstractParquetDataset.load)
        assert not core._is_placeholder(AbstractTableDataset.save)


class TestLoadWrapper:
    def test_logs_debug_message(self, caplog):
        dataset = StoreDataset(data=3)
        with caplog.at_level(logging.DEBUG, logger=LOGGER):
            assert dataset.load() == 3
        messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
        assert messages == [f"Loading {dataset!s}"]
        assert caplog.records[0].levelno == logging.DEBUG

    def test_dataset_error_passes_through_unchanged(self):
        error = DatasetError("already translated")
        with pytest.raises(DatasetError) as exc_info:
            FailingDataset(error).load()
        assert exc_info.value is error

    @pytest.mark.parametrize(
        "error", [ValueError("bad value"), KeyError("key"), OSError("disk")]
    )
    def test_other_errors_are_wrapped(self, error):
        dataset = FailingDataset(error)
        with pytest.raises(DatasetError) as exc_info:
            dataset.load()
        assert str(exc_info.value) == (
            f"Failed while loading data from dataset {dataset!s}.\n{error!s}"
        )
        assert exc_info.value.__cause__ is error

    def test_file_not_found_is_wrapped_on_load(self):
        error = FileNotFoundError("no file")
        dataset = FailingDataset(error)
        with pytest.raises(DatasetError) as exc_info:
            dataset.load()
        assert exc_info.value.__cause__ is error


class TestSaveWrapper:
    def test_logs_debug_message(self, caplog):
        dataset = StoreDataset()
        with caplog.at_level(logging.DEBUG, logger=LOGGER):
            dataset.save(1)
        messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
        assert messages == [f"Saving {dataset!s}"]

    def test_saving_none_is_rejected_before_the_dataset_is_called(self):
        dataset = FailingDataset(ValueError("not reached"))
        with pytest.raises(DatasetError) as exc_info:
            dataset.save(None)
        assert str(exc_info.value) == "Saving 'None' to a 'Dataset' is not allowed"
        assert dataset.save_calls == 0

    @pytest.mark.parametrize(
        "error",
        [
            DatasetError("translated"),
            FileNotFoundError("no such dir"),
            NotADirectoryError("a file is in the way"),
        ],
    )
    def test_some_errors_pass_through_unchanged(self, error):
        with pytest.raises(type(error)) as exc_info:
            FailingDataset(error).save(1)
        assert exc_info.value is error

    @pytest.mark.parametrize("error", [ValueError("bad value"), PermissionError("no")])
    def test_other_errors_are_wrapped(self, error):
        dataset = FailingDataset(error)
        with pytest.raises(DatasetError) as exc_info:
            dataset.save(1)
        assert str(exc_info.value) == (
            f"Failed while saving data to dataset {dataset!s}.\n{error!s}"
        )
        assert exc_info.value.__cause__ is error

    def test_falsy_values_other_than_none_are_saved(self):
        dataset = StoreDataset()
        for value in (0, "", [], False):
            dataset.save(value)
            assert dataset.load() == value


class TestExists:
    def test_default_exists_warns_and_returns_false(self, caplog):
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            assert NoExistsDataset().exists() is False
        assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
            (
                LOGGER,
                logging.WARNING,
                "'exists()' not implemented for 'NoExistsDataset'. "
                "Assuming output does not exist.",
            )
        ]

    def test_calls_exists_implementation(self, caplog):
        dataset = StoreDataset()
        assert dataset.exists() is False
        dataset.save(1)
        with caplog.at_level(logging.DEBUG, logger=LOGGER):
            assert dataset.exists() is True
        assert [r.getMessage() for r in caplog.records] == [
            f"Checking whether target of {dataset!s} exists"
        ]

    @pytest.mark.parametrize("error", [ValueError("broken"), DatasetError("inner")])
    def test_errors_are_wrapped(self, error):
        dataset = FailingDataset(error)
        with pytest.raises(DatasetError) as exc_info:
            dataset.exists()
        assert str(exc_info.value) == (
            f"Failed during exists check for dataset {dataset!s}.\n{error!s}"
        )
        assert exc_info.value.__cause__ is error


class TestRelease:
    def test_calls_release_implementation(self, caplog):
        dataset = StoreDataset()
        with caplog.at_level(logging.DEBUG, logger=LOGGER):
            dataset.release()
        assert dataset.released
        assert [r.getMessage() for r in caplog.records] == [f"Releasing {dataset!s}"]

    def test_default_release_does_nothing(self):
        assert NoExistsDataset().release() is None

    @pytest.mark.parametrize("error", [RuntimeError("stuck"), DatasetError("inner")])
    def test_errors_are_wrapped(self, error):
        dataset = FailingDataset(error)
        with pytest.raises(DatasetError) as exc_info:
            dataset.release()
        assert str(exc_info.value) == (
            f"Failed during release for dataset {dataset!s}.\n{error!s}"
        )
        assert exc_info.value.__cause__ is error


class TestRepr:
    def test_class_path_and_described_values(self):
        dataset = DescribedDataset({"filepath": "a.csv", "load_args": {"sep": ","}})
        assert repr(dataset) == (
            f"{MODULE}.DescribedDataset(filepath='a.csv', load_args={{'sep': ','}})"
        )

    def test_str_equals_repr(self):
        dataset = DescribedDataset({"x": 1})
        assert str(dataset) == repr(dataset)

    def test_none_values_are_skipped_but_other_falsy_values_shown(self):
        dataset = DescribedDataset(
            {"a": None, "b": 0, "c": "", "d": [], "e": False, "f": {}}
        )
        assert (
            repr(dataset)
            == f"{MODULE}.DescribedDataset(b=0, c='', d=[], e=False, f={{}})"
        )

    def test_values_rendered_with_pformat_rules(self):
        dataset = DescribedDataset(
            {
                "nested": {"x": {"y": {"z": 1}}},
                "order": {"z": 1, "a": 2},
                "quote": "it's",
                "long": list(range(40)),
            }
        )
        long_list = ", ".join(str(i) for i in range(40))
        assert repr(dataset) == (
            f"{MODULE}.DescribedDataset(nested={{'x': {{'y': {{...}}}}}}, "
            f"order={{'z': 1, 'a': 2}}, quote=\"it's\", long=[{long_list}])"
        )

    def test_empty_description(self):
        assert repr(DescribedDataset({})) == f"{MODULE}.DescribedDataset()"

    @pytest.mark.parametrize(
        "description", [["not", "a", "dict"], {1: "int key"}, None]
    )
    def test_bad_describe_warns_and_gives_bare_class(self, caplog, description):
        dataset = DescribedDataset(description)
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            assert repr(dataset) == f"{MODULE}.DescribedDataset()"
        assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
            (
                logging.WARNING,
                f"'{MODULE}.DescribedDataset' is a subclass of AbstractDataset and it "
                "must implement the '_describe' method following the signature of "
                "AbstractDataset's '_describe'.",
            )
        ]


class TestInitArgs:
    def test_call_arguments_are_recorded_with_defaults(self):
        dataset = ConfigurableDataset("data.csv", load_args={"sep": ";"}, colour="red")
        assert dataset._init_args == {
            "filepath": "data.csv",
            "load_args": {"sep": ";"},
            "version": None,
            "metadata": None,
            "extra": {"colour": "red"},
        }

    def test_positional_arguments_are_named(self):
        dataset = ConfigurableDataset("data.csv", {"a": 1})
        assert dataset._init_args["filepath"] == "data.csv"
        assert dataset._init_args["load_args"] == {"a": 1}

    def test_subclass_without_init_records_the_inherited_parameters(self):
        """Unlike Kedro 1.1.1 (which records ``{"args": ..., "kwargs": ...}``), the
        arguments are bound to the inherited ``__init__``'s real parameters, so
        ``to_config`` writes a config the class accepts."""
        dataset = AlwaysVersionedDataset("x.csv", load_args={"a": 1})
        assert dataset._init_args["filepath"] == "x.csv"
        assert dataset._init_args["load_args"] == {"a": 1}
        assert "args" not in dataset._init_args
        assert "kwargs" not in dataset._init_args

    def test_init_config_has_type_and_arguments(self):
        dataset = ConfigurableDataset("data.csv", load_args={"sep": ";"})
        assert dataset._init_config() == {
            "type": f"{MODULE}.ConfigurableDataset",
            "filepath": "data.csv",
            "load_args": {"sep": ";"},
            "extra": {},
        }

    def test_init_config_turns_version_into_versioned_and_drops_metadata(self):
        dataset = ConfigurableDataset(
            "data.csv", version=Version(None, None), metadata={"owner": "me"}
        )
        config = dataset._init_config()
        assert config["versioned"] is True
        assert "version" not in config
        assert "metadata" not in config

    def test_init_config_of_memory_dataset(self):
        assert MemoryDataset(data=3, metadata={"m": 1})._init_config() == {
            "type": "dagloop.io.memory_dataset.MemoryDataset",
            "data": 3,
            "copy_mode": None,
        }

    def test_init_config_flattens_cached_dataset_around_a_dataset(self):
        wrapped = TextVersionedDataset("f.txt", version=Version(None, None))
        cached = CachedDataset(wrapped, metadata={"m": 1})
        assert cached._init_config() == {
            "type": "dagloop.io.cached_dataset.CachedDataset",
            "copy_mode": None,
            "versioned": True,
            "dataset": {
                "type": f"{MODULE}.TextVersionedDataset",
                "filepath": "f.txt",
                "glob_function": None,
            },
        }

    def test_init_config_flattens_cached_dataset_around_a_config(self):
        cached = CachedDataset(
            {"type": f"{MODULE}.TextVersionedDataset", "filepath": "f.txt"},
            version=Version(None, None),
        )
        assert cached._init_config() == {
            "type": "dagloop.io.cached_dataset.CachedDataset",
            "copy_mode": None,
            "versioned": True,
            "dataset": {"type": f"{MODULE}.TextVersionedDataset", "filepath": "f.txt"},
        }

    def test_init_config_of_unversioned_cached_dataset(self):
        cached = CachedDataset(StoreDataset(label="x"), copy_mode="assign")
        assert cached._init_config() == {
            "type": "dagloop.io.cached_dataset.CachedDataset",
            "copy_mode": "assign",
            "dataset": {
                "type": f"{MODULE}.StoreDataset",
                "data": None,
                "label": "x",
            },
        }


class TestCopy:
    def test_copy_is_deep_and_overrides_attributes(self):
        dataset = ConfigurableDataset("a.csv")
        copied = dataset._copy(filepath="b.csv", extra_attr=1)
        assert copied is not dataset
        assert isinstance(copied, ConfigurableDataset)
        assert copied.filepath == "b.csv"
        assert copied.extra_attr == 1
        assert dataset.filepath == "a.csv"
        assert not hasattr(dataset, "extra_attr")
        copied.nested["deep"].append(4)
        assert dataset.nested == {"deep": [1, 2, 3]}

    def test_copy_without_overrides(self):
        dataset = StoreDataset(data=[1, 2])
        copied = dataset._copy()
        assert copied.load() == [1, 2]
        assert copied.data is not dataset.data


class TestFromConfig:
    def test_builds_dataset_from_short_type_name(self):
        dataset = AbstractDataset.from_config(
            "ds", {"type": "MemoryDataset", "data": 3}
        )
        assert isinstance(dataset, MemoryDataset)
        assert dataset.load() == 3

    def test_builds_dataset_from_full_class_path(self):
        dataset = AbstractDataset.from_config(
            "ds", {"type": f"{MODULE}.ConfigurableDataset", "filepath": "a.csv"}
        )
        assert isinstance(dataset, ConfigurableDataset)
        assert dataset.filepath == "a.csv"

    def test_passes_versions_to_versioned_datasets(self):
        dataset = AbstractDataset.from_config(
            "ds",
            {
                "type": f"{MODULE}.TextVersionedDataset",
                "filepath": "f",
                "versioned": True,
            },
            load_version="2020-01-01T00.00.00.000Z",
            save_version="2021-01-01T00.00.00.000Z",
        )
        assert dataset._version == Version(
            "2020-01-01T00.00.00.000Z", "2021-01-01T00.00.00.000Z"
        )

    def test_parse_failure_is_wrapped(self):
        with pytest.raises(DatasetError) as exc_info:
            AbstractDataset.from_config("ds", {"type": "NoSuchDataset"})
        message = str(exc_info.value)
        assert message == (
            "An exception occurred when parsing config for dataset 'ds':\n"
            "Empty module name. Invalid dataset path: 'NoSuchDataset'. "
            f"Please check if it's correct.{KEDRO_DATASETS_HINT}"
        )
        assert isinstance(exc_info.value.__cause__, DatasetError)

    def test_missing_type_is_a_parse_failure(self):
        with pytest.raises(DatasetError) as exc_info:
            AbstractDataset.from_config("ds", {"filepath": "x"})
        assert str(exc_info.value) == (
            "An exception occurred when parsing config for dataset 'ds':\n'type'"
        )
        assert isinstance(exc_info.value.__cause__, KeyError)

    def test_bad_constructor_arguments(self):
        with pytest.raises(DatasetError) as exc_info:
            AbstractDataset.from_config("ds", {"type": "MemoryDataset", "bogus": 1})
        cause = exc_info.value.__cause__
        assert isinstance(cause, TypeError)
        assert "bogus" in str(cause)
        assert str(exc_info.value) == (
            f"\n{cause}.\nDataset 'ds' must only contain arguments valid for the "
            "constructor of 'dagloop.io.memory_dataset.MemoryDataset'."
        )

    def test_other_constructor_errors(self):
        with pytest.raises(DatasetError) as exc_info:
            AbstractDataset.from_config("ds", {"type": f"{MODULE}.ExplodingDataset"})
        assert str(exc_info.value) == (
            "\nconstructor exploded.\nFailed to instantiate dataset 'ds' of type "
            f"'{MODULE}.ExplodingDataset'."
        )
        assert isinstance(exc_info.value.__cause__, ValueError)

    def test_config_is_not_mutated(self):
        config = {"type": "MemoryDataset", "data": [1], "versioned": False}
        AbstractDataset.from_config("ds", config)
        assert config == {"type": "MemoryDataset", "data": [1], "versioned": False}


# ------------------------------------------------------- dataset definitions


@pytest.fixture
def fake_modules(monkeypatch):
    """Register throw-away modules in ``sys.modules`` for the duration of a test."""

    def install(name: str, **attrs: Any) -> types.ModuleType:
        module = types.ModuleType(name)
        for key, value in attrs.items():
            setattr(module, key, value)
        monkeypatch.setitem(sys.modules, name, module)
        return module

    return install


def _probe_class(tag: str) -> type:
    return type(f"Probe{tag}", (StoreDataset,), {"__module__": MODULE})


class TestParseDatasetDefinition:
    def test_class_object_type(self):
        class_obj, config = parse_dataset_definition(
            {"type": ConfigurableDataset, "filepath": "a"}
        )
        assert class_obj is ConfigurableDataset
        assert config == {"filepath": "a"}

    def test_config_is_deep_copied(self):
        original = {"type": "MemoryDataset", "data": {"nested": [1]}}
        _, config = parse_dataset_definition(original)
        config["data"]["nested"].append(2)
        assert original == {"type": "MemoryDataset", "data": {"nested": [1]}}

    @pytest.mark.parametrize(
        ("type_name", "expected"),
        [
            ("MemoryDataset", MemoryDataset),
            ("CachedDataset", CachedDataset),
            ("SharedMemoryDataset", SharedMemoryDataset),
            ("dagloop.io.MemoryDataset", MemoryDataset),
            ("dagloop.io.memory_dataset.MemoryDataset", MemoryDataset),
            ("kedro.io.MemoryDataset", MemoryDataset),
            ("kedro.io.CachedDataset", CachedDataset),
            ("kedro.io.memory_dataset.MemoryDataset", MemoryDataset),
            ("kedro.io.SharedMemoryDataset", SharedMemoryDataset),
        ],
    )
    def test_type_names_resolve_to_dagloop_classes(self, type_name, expected):
        class_obj, _ = parse_dataset_definition({"type": type_name})
        assert class_obj is expected

    def test_dagloop_io_prefix_is_tried_first(self, fake_modules):
        ours, kedro_datasets_one, full_path = (_probe_class(t) for t in "ABC")
        fake_modules("dagloop.io.orderprobe", Probe=ours)
        fake_modules("kedro_datasets.orderprobe", Probe=kedro_datasets_one)
        fake_modules("orderprobe", Probe=full_path)
        assert parse_dataset_definition({"type": "orderprobe.Probe"})[0] is ours

    def test_kedro_datasets_prefix_is_tried_before_the_full_path(self, fake_modules):
        kedro_datasets_one, full_path = _probe_class("B"), _probe_class("C")
        fake_modules("kedro_datasets.orderprobe", Probe=kedro_datasets_one)
        fake_modules("orderprobe", Probe=full_path)
        assert parse_dataset_definition({"type": "orderprobe.Probe"})[0] is (
            kedro_datasets_one
        )

    def test_full_path_is_tried_last(self, fake_modules):
        full_path = _probe_class("C")
        fake_modules("orderprobe", Probe=full_path)
        assert parse_dataset_definition({"type": "orderprobe.Probe"})[0] is full_path

    def test_kedro_datasets_short_name(self):
        from kedro_datasets.yaml import YAMLDataset

        class_obj, config = parse_dataset_definition(
            {"type": "yaml.YAMLDataset", "filepath": "a.yml"}
        )
        assert class_obj is YAMLDataset
        assert config == {"filepath": "a.yml"}

    def test_kedro_datasets_full_path(self):
        from kedro_datasets.pandas import CSVDataset

        class_obj, _ = parse_dataset_definition(
            {"type": "kedro_datasets.pandas.CSVDataset", "filepath": "a.csv"}
        )
        assert class_obj is CSVDataset

    @pytest.mark.parametrize(
        "type_name", [".MemoryDataset", "MemoryDataset.", "..io.MemoryDataset"]
    )
    def test_relative_or_trailing_dot_paths_are_rejected(self, type_name):
        with pytest.raises(DatasetError) as exc_info:
            parse_dataset_definition({"type": type_name})
        assert str(exc_info.value) == (
            "'type' class path does not support relative paths or paths ending "
            "with a dot."
        )

    def test_uppercase_set_spelling_warns(self):
        with (
            pytest.warns(UserWarning, match="spelled with a lowercase 's'") as record,
            pytest.raises(DatasetError, match="Invalid dataset path: 'MemoryDataSet'"),
        ):
            parse_dataset_definition({"type": "MemoryDataSet"})
        assert [str(w.message) for w in record] == [
            "Since kedro-datasets 2.0, 'Dataset' is spelled with a lowercase 's'. "
            "Got 'MemoryDataSet'."
        ]

    def test_uppercase_set_warning_for_existing_class(self, fake_modules):
        probe = _probe_class("Set")
        fake_modules("setprobe", LegacyDataSet=probe)
        with pytest.warns(UserWarning, match="Got 'setprobe.LegacyDataSet'"):
            assert (
                parse_dataset_definition({"type": "setprobe.LegacyDataSet"})[0] is probe
            )

    def test_unknown_class_without_module(self):
        with pytest.raises(DatasetError) as exc_info:
            parse_dataset_definition({"type": "NoSuchDataset"})
        assert str(exc_info.value) == (
            "Empty module name. Invalid dataset path: 'NoSuchDataset'. "
            f"Please check if it's correct.{KEDRO_DATASETS_HINT}"
        )

    def test_unknown_class_in_existing_module(self):
        with pytest.raises(DatasetError) as exc_info:
            parse_dataset_definition({"type": "dagloop.io.memory_dataset.Nope"})
        assert str(exc_info.value) == (
            "Dataset 'Nope' not found in 'dagloop.io.memory_dataset'. "
            f"Make sure the dataset name is correct.{KEDRO_DATASETS_HINT}"
        )

    def test_unknown_module(self):
        with pytest.raises(DatasetError) as exc_info:
            parse_dataset_definition({"type": "nosuchpkg.Thing"})
        message = str(exc_info.value)
        assert message.startswith(
            "No module named 'nosuchpkg'. Please install the missing dependencies "
            "for nosuchpkg.Thing:\n"
        )
        assert message.endswith(KEDRO_DATASETS_HINT)

    def test_class_listed_in_all_but_missing_fails_immediately(self, fake_modules):
        fake_modules("ghostpkg", __all__=["GhostDataset"])
        with pytest.raises(DatasetError) as exc_info:
            parse_dataset_definition({"type": "ghostpkg.GhostDataset"})
        message = str(exc_info.value)
        assert (
            "Please see the documentation on how to install relevant dependencies for ghostpkg.GhostDataset"
            in message
        )
        assert "Hint:" not in message

    @pytest.mark.parametrize(
        ("type_value", "class_path"),
        [
            ("collections.OrderedDict", "collections.OrderedDict"),
            (f"{MODULE}.NotADataset", f"{MODULE}.NotADataset"),
            (dict, "builtins.dict"),
        ],
    )
    def test_class_that_is_not_a_dataset(self, type_value, class_path):
        with pytest.raises(DatasetError) as exc_info:
            parse_dataset_definition({"type": type_value})
        assert str(exc_info.value) == (
            f"Dataset type '{class_path}' is invalid: all dataset types must extend "
            "'AbstractDataset'."
        )

    def test_version_key_is_removed_with_warning(self, caplog):
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            _, config = parse_dataset_definition(
                {"type": "MemoryDataset", "version": "2020", "data": 1}
            )
        assert config == {"data": 1}
        assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
            (
                LOGGER,
                logging.WARNING,
                "'version' attribute removed from dataset configuration since it is "
                "a reserved word and cannot be directly specified",
            )
        ]

    def test_versioned_flag_becomes_a_version(self):
        _, config = parse_dataset_definition(
            {"type": f"{MODULE}.ConfigurableDataset", "versioned": True},
            load_version="2020-01-01T00.00.00.000Z",
            save_version="2021-01-01T00.00.00.000Z",
        )
        assert config == {
            "version": Version("2020-01-01T00.00.00.000Z", "2021-01-01T00.00.00.000Z")
        }
        assert isinstance(config["version"], Version)

    def test_versioned_without_save_version_uses_a_timestamp(self):
        _, config = parse_dataset_definition(
            {"type": f"{MODULE}.ConfigurableDataset", "versioned": True}
        )
        assert config["version"].load is None
        assert TIMESTAMP.match(config["version"].save)

    def test_versioned_false_is_dropped(self):
        _, config = parse_dataset_definition(
            {"type": f"{MODULE}.ConfigurableDataset", "versioned": False},
            load_version="2020-01-01T00.00.00.000Z",
        )
        assert config == {}

    def test_class_with_versioned_attribute_is_versioned(self):
        _, config = parse_dataset_definition(
            {"type": f"{MODULE}.AlwaysVersionedDataset"}, "l", "s"
        )
        assert config == {"version": Version("l", "s")}


# ----------------------------------------------------------------- versions


class TestVersion:
    def test_is_a_named_tuple_of_load_and_save(self):
        version = Version("a", "b")
        assert version.load == "a"
        assert version.save == "b"
        assert Version._fields == ("load", "save")
        assert version == ("a", "b")
        assert Version.__slots__ == ()

    def test_none_fields(self):
        assert Version(None, None) == (None, None)


class TestGenerateTimestamp:
    def test_format(self):
        assert TIMESTAMP.match(generate_timestamp())

    def test_utc_milliseconds(self, monkeypatch):
        calls = []

        class FrozenDatetime(datetime):
            @classmethod
            def now(cls, tz=None):
                calls.append(tz)
                return datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)

        monkeypatch.setattr(core, "datetime", FrozenDatetime)
        assert generate_timestamp() == "2024-01-02T03.04.05.678Z"
        assert calls == [UTC]

    def test_constants(self):
        assert core.VERSION_FORMAT == "%Y-%m-%dT%H.%M.%S.%fZ"
        assert core.VERSIONED_FLAG_KEY == "versioned"
        assert core.VERSION_KEY == "version"
        assert core.TYPE_KEY == "type"
        assert core.PROTOCOL_DELIMITER == "://"


# ------------------------------------------------------------------ helpers


class TestGetProtocolAndPath:
    @pytest.mark.parametrize(
        ("filepath", "expected"),
        [
            ("/tmp/a.csv", ("file", "/tmp/a.csv")),
            ("relative/a.csv", ("file", "relative/a.csv")),
            ("file:///tmp/a.csv", ("file", "/tmp/a.csv")),
            ("C:\\data\\a.csv", ("file", "C:\\data\\a.csv")),
            ("s3://bucket/a.csv", ("s3", "bucket/a.csv")),
            ("gcs://bucket/x/y.csv", ("gcs", "bucket/x/y.csv")),
            ("abfs://container@account/f.csv", ("abfs", "account/f.csv")),
            ("http://example.com/a.csv", ("http", "example.com/a.csv")),
            ("https://example.com/a.csv?x=1", ("https", "example.com/a.csv?x=1")),
        ],
    )
    def test_protocol_and_path(self, filepath, expected):
        assert get_protocol_and_path(filepath) == expected

    def test_path_objects(self):
        assert get_protocol_and_path(PurePosixPath("/tmp/a.csv")) == (
            "file",
            "/tmp/a.csv",
        )

    @pytest.mark.parametrize("url", ["http://example.com/a", "https://example.com/a"])
    def test_http_with_version_is_rejected(self, url):
        with pytest.raises(DatasetError) as exc_info:
            get_protocol_and_path(url, Version(None, None))
        assert str(exc_info.value) == (
            "Versioning is not supported for HTTP protocols. Please remove the "
            "`versioned` flag from the dataset configuration."
        )

    def test_versions_are_fine_for_other_protocols(self):
        assert get_protocol_and_path("s3://b/a.csv", Version(None, None)) == (
            "s3",
            "b/a.csv",
        )


class TestGetFilepathStr:
    @pytest.mark.parametrize(
        ("protocol", "expected"),
        [
            ("https", "https://example.com/a.csv"),
            ("http", "http://example.com/a.csv"),
            ("file", "example.com/a.csv"),
            ("s3", "example.com/a.csv"),
        ],
    )
    def test_http_gets_its_scheme_back(self, protocol, expected):
        assert (
            get_filepath_str(PurePosixPath("example.com/a.csv"), protocol) == expected
        )


class TestValidateOnForbiddenChars:
    def test_clean_values_pass(self):
        assert validate_on_forbidden_chars(table="t", schema="s_1") is None

    @pytest.mark.parametrize("value", ["has space", "semi;colon", " "])
    def test_space_or_semicolon_is_rejected(self, value):
        with pytest.raises(DatasetError) as exc_info:
            validate_on_forbidden_chars(ok="fine", table_name=value)
        assert str(exc_info.value) == (
            "Neither white-space nor semicolon are allowed in 'table_name'."
        )


class TestIsParameter:
    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("params:x", True),
            ("params:a.b", True),
            ("parameters", True),
            ("params", False),
            ("parameters:x", False),
            ("my_params:x", False),
            ("parameters_extra", False),
        ],
    )
    def test_is_parameter(self, name, expected):
        assert is_parameter(name) is expected


# --------------------------------------------------------------- versioning


OLD = "2020-01-01T00.00.00.000Z"
NEW = "2021-01-01T00.00.00.000Z"
NEWEST = "2099-01-01T00.00.00.000Z"


@pytest.fixture
def base(tmp_path: Path) -> Path:
    return tmp_path / "data" / "text.txt"


class TestAbstractVersionedDataset:
    def test_unversioned_uses_the_plain_path(self, base):
        dataset = TextVersionedDataset(str(base))
        assert dataset.resolve_load_version() is None
        assert dataset.resolve_save_version() is None
        base.parent.mkdir(parents=True)
        dataset.save("plain")
        assert base.read_text() == "plain"
        assert dataset.load() == "plain"

    def test_save_then_load_round_trip(self, base, monkeypatch):
        monkeypatch.setattr(core, "generate_timestamp", lambda: NEW)
        dataset = TextVersionedDataset(str(base), Version(None, None))
        dataset.save("hello")
        assert (base / NEW / base.name).read_text() == "hello"
        assert dataset.resolve_load_version() == NEW
        assert dataset.load() == "hello"
        assert dataset.exists() is True

    def test_newest_version_is_loaded(self, base):
        write_version(base, OLD, "old")
        write_version(base, NEW, "new")
        (base / NEWEST).mkdir()  # a version folder without the file is ignored
        dataset = TextVersionedDataset(str(base), Version(None, None))
        assert dataset.resolve_load_version() == NEW
        assert dataset.load() == "new"

    def test_pinned_load_version(self, base):
        write_version(base, OLD, "old")
        write_version(base, NEW, "new")
        dataset = TextVersionedDataset(str(base), Version(OLD, None))
        assert dataset.resolve_load_version() == OLD
        assert dataset.load() == "old"

    def test_pinned_save_version(self, base):
        dataset = TextVersionedDataset(str(base), Version(None, OLD))
        assert dataset.resolve_save_version() == OLD
        dataset.save("pinned")
        assert (base / OLD / base.name).read_text() == "pinned"

    def test_unpinned_save_version_is_a_cached_timestamp(self, base):
        dataset = TextVersionedDataset(str(base), Version(None, None))
        first = dataset.resolve_save_version()
        assert TIMESTAMP.match(first)
        assert dataset.resolve_save_version() == first

    def test_no_versions_raises_version_not_found(self, base):
        dataset = TextVersionedDataset(str(base), Version(None, None))
        with pytest.raises(VersionNotFoundError) as exc_info:
            dataset.load()
        assert str(exc_info.value) == f"Did not find any versions for {dataset!s}"
        with pytest.raises(VersionNotFoundError):
            dataset.resolve_load_version()

    def test_exists_is_false_without_versions(self, base):
        dataset = TextVersionedDataset(str(base), Version(None, None))
        assert dataset.exists() is False

    def test_failing_glob_raises_version_not_found(self, base):
        def broken_glob(pattern: str) -> list[str]:
            raise PermissionError("denied")

        dataset = TextVersionedDataset(
            str(base), Version(None, None), glob_function=broken_glob
        )
        with pytest.raises(VersionNotFoundError) as exc_info:
            dataset.resolve_load_version()
        assert str(exc_info.value) == (
            f"Did not find any versions for {dataset!s}. This could be due to "
            "insufficient permission. Exception: denied"
        )
        assert isinstance(exc_info.value.__cause__, PermissionError)

    def test_existing_save_path_is_an_error(self, base):
        write_version(base, OLD, "old")
        dataset = TextVersionedDataset(str(base), Version(None, OLD))
        with pytest.raises(DatasetError) as exc_info:
            dataset.save("again")
        assert str(exc_info.value) == (
            f"Save path '{base / OLD / base.name}' for {dataset!s} must not exist "
            "if versioning is enabled."
        )
        assert (base / OLD / base.name).read_text() == "old"

    def test_mismatched_load_and_save_versions_warn(self, base):
        write_version(base, OLD, "old")
        dataset = TextVersionedDataset(str(base), Version(OLD, NEW))
        expected = (
            f"Save version '{NEW}' did not match load version '{OLD}' for "
            f"{dataset!s}. This is strongly discouraged due to inconsistencies it "
            "may cause between 'save' and 'load' operations. Please refrain from "
            "setting exact load version for intermediate datasets where possible "
            "to avoid this warning."
        )
        with pytest.warns(UserWarning, match="did not match load version") as record:
            dataset.save("new")
        assert [str(w.message) for w in record] == [expected]
        assert (base / NEW / base.name).read_text() == "new"
        assert dataset.load() == "old"

    def test_matching_versions_do_not_warn(self, base):
        dataset = TextVersionedDataset(str(base), Version(NEW, NEW))
        dataset.save("same")  # filterwarnings=error would fail on a warning
        assert dataset.load() == "same"

    def test_release_clears_the_version_cache(self, base, monkeypatch):
        monkeypatch.setattr(core, "generate_timestamp", lambda: NEW)
        dataset = TextVersionedDataset(str(base), Version(None, None))
        dataset.save("mine")
        write_version(base, NEWEST, "someone else's")
        assert dataset.load() == "mine"  # the resolved version is cached
        dataset.release()
        assert dataset.load() == "someone else's"

    def test_save_clears_the_version_cache(self, base, monkeypatch):
        stamps = itertools.chain([OLD], itertools.repeat(NEW))
        monkeypatch.setattr(core, "generate_timestamp", lambda: next(stamps))
        dataset = TextVersionedDataset(str(base), Version(None, None))
        dataset.save("first")
        assert dataset.load() == "first"
        dataset.save("second")
        assert dataset.resolve_save_version() == NEW
        assert dataset.load() == "second"

    def test_file_with_the_dataset_name_clashes(self, base):
        base.parent.mkdir(parents=True)
        base.write_text("unversioned")
        dataset = TextVersionedDataset(str(base), Version(None, OLD))
        with pytest.raises(DatasetError) as exc_info:
            dataset.save("versioned")
        posix = PurePosixPath(str(base))
        assert str(exc_info.value) == (
            f"Cannot save versioned dataset '{posix.name}' to '{posix.parent}' "
            "because a file with the same name already exists in the directory. "
            "This is likely because versioning was enabled on a dataset already "
            f"saved previously. Either remove '{posix.name}' from the directory or "
            "manually convert it into a versioned dataset by placing it in a "
            "versioned directory (e.g. with default versioning format "
            f"'{posix}/YYYY-MM-DDThh.mm.ss.sssZ/{posix.name}')."
        )
        assert isinstance(exc_info.value.__cause__, NotADirectoryError)

    def test_copy_with_other_version(self, base):
        write_version(base, OLD, "old")
        write_version(base, NEW, "new")
        dataset = TextVersionedDataset(str(base), Version(None, None))
        pinned = dataset._copy(_version=Version(OLD, None))
        assert pinned.load() == "old"
        assert dataset.load() == "new"


# --------------------------------------------------------------- async faces


class TestAsyncFacesOfSyncDatasets:
    @pytest.mark.anyio
    async def test_io_runs_in_a_worker_thread(self):
        loop_thread = threading.get_ident()
        dataset = StoreDataset()
        await dataset.asave({"a": 1})
        assert await dataset.aload() == {"a": 1}
        assert await dataset.aexists() is True
        await dataset.arelease()
        assert dataset.released
        assert set(dataset.threads) == {"load", "save", "exists", "release"}
        assert all(ident != loop_thread for ident in dataset.threads.values())

    @pytest.mark.anyio
    async def test_load_errors_are_translated(self):
        error = ValueError("boom")
        dataset = FailingDataset(error)
        with pytest.raises(DatasetError) as exc_info:
            await dataset.aload()
        assert str(exc_info.value) == (
            f"Failed while loading data from dataset {dataset!s}.\nboom"
        )
        assert exc_info.value.__cause__ is error

    @pytest.mark.anyio
    async def test_save_errors_are_translated(self):
        error = ValueError("boom")
        dataset = FailingDataset(error)
        with pytest.raises(DatasetError) as exc_info:
            await dataset.asave(1)
        assert str(exc_info.value) == (
            f"Failed while saving data to dataset {dataset!s}.\nboom"
        )
        assert exc_info.value.__cause__ is error

    @pytest.mark.anyio
    async def test_exists_and_release_errors_are_translated(self):
        error = OSError("gone")
        dataset = FailingDataset(error)
        with pytest.raises(DatasetError, match="Failed during exists check") as exists:
            await dataset.aexists()
        assert exists.value.__cause__ is error
        with pytest.raises(DatasetError, match="Failed during release") as release:
            await dataset.arelease()
        assert release.value.__cause__ is error

    @pytest.mark.anyio
    async def test_asave_none_is_rejected(self):
        dataset = FailingDataset(ValueError("not reached"))
        with pytest.raises(
            DatasetError, match=r"^Saving 'None' to a 'Dataset' is not allowed$"
        ):
            await dataset.asave(None)
        assert dataset.save_calls == 0

    @pytest.mark.anyio
    async def test_default_aexists_warns(self, caplog):
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            assert await NoExistsDataset().aexists() is False
        assert [r.getMessage() for r in caplog.records] == [
            "'exists()' not implemented for 'NoExistsDataset'. "
            "Assuming output does not exist."
        ]


class TestAsyncNativeDataset:
    @pytest.mark.anyio
    async def test_async_methods_run_on_the_event_loop(self):
        loop_thread = threading.get_ident()
        dataset = AsyncStoreDataset()
        assert await dataset.aexists() is False
        await dataset.asave([1, 2])
        assert await dataset.aload() == [1, 2]
        assert await dataset.aexists() is True
        assert dataset.threads == [loop_thread] * 4

    def test_sync_faces_work_outside_an_event_loop(self):
        dataset = AsyncStoreDataset()
        assert dataset.exists() is False
        dataset.save("data")
        assert dataset.load() == "data"
        assert dataset.exists() is True
        assert len(dataset.threads) == 4

    @pytest.mark.anyio
    async def test_sync_faces_work_inside_a_running_loop(self):
        loop_thread = threading.get_ident()
        dataset = AsyncStoreDataset()
        dataset.save("from async code")
        assert dataset.load() == "from async code"
        assert dataset.exists() is True
        # The coroutines ran on another loop, never re-entering this one.
        assert len(dataset.threads) == 3
        assert loop_thread not in dataset.threads

    @pytest.mark.anyio
    async def test_sync_faces_work_from_a_worker_thread_of_a_running_loop(self):
        loop_thread = threading.get_ident()
        dataset = AsyncStoreDataset()

        def sync_node() -> tuple[Any, bool]:
            dataset.save("from a worker")
            return dataset.load(), dataset.exists()

        assert await anyio.to_thread.run_sync(sync_node) == ("from a worker", True)
        # Handed back to the loop that owns the worker thread.
        assert dataset.threads == [loop_thread] * 3

    @pytest.mark.anyio
    async def test_load_errors_are_translated(self):
        error = KeyError("missing")
        dataset = AsyncStoreDataset(error=error)
        with pytest.raises(DatasetError) as exc_info:
            await dataset.aload()
        assert str(exc_info.value) == (
            f"Failed while loading data from dataset {dataset!s}.\n'missing'"
        )
        assert exc_info.value.__cause__ is error

    @pytest.mark.anyio
    async def test_dataset_errors_pass_through(self):
        error = DatasetError("already translated")
        dataset = AsyncStoreDataset(error=error)
        with pytest.raises(DatasetError) as load_info:
            await dataset.aload()
        assert load_info.value is error
        with pytest.raises(DatasetError) as save_info:
            await dataset.asave(1)
        assert save_info.value is error

    @pytest.mark.anyio
    async def test_save_errors_are_translated(self):
        error = ValueError("cannot write")
        dataset = AsyncStoreDataset(error=error)
        with pytest.raises(DatasetError) as exc_info:
            await dataset.asave(1)
        assert str(exc_info.value) == (
            f"Failed while saving data to dataset {dataset!s}.\ncannot write"
        )
        assert exc_info.value.__cause__ is error

    @pytest.mark.anyio
    @pytest.mark.parametrize(
        "error", [FileNotFoundError("no dir"), NotADirectoryError("file in the way")]
    )
    async def test_file_errors_pass_through_asave(self, error):
        dataset = AsyncStoreDataset(error=error)
        with pytest.raises(type(error)) as exc_info:
            await dataset.asave(1)
        assert exc_info.value is error

    @pytest.mark.anyio
    async def test_exists_errors_are_translated(self):
        error = OSError("unreachable")
        dataset = AsyncStoreDataset(error=error)
        with pytest.raises(DatasetError) as exc_info:
            await dataset.aexists()
        assert str(exc_info.value) == (
            f"Failed during exists check for dataset {dataset!s}.\nunreachable"
        )
        assert exc_info.value.__cause__ is error

    @pytest.mark.anyio
    async def test_asave_none_is_rejected(self):
        dataset = AsyncStoreDataset()
        with pytest.raises(
            DatasetError, match=r"^Saving 'None' to a 'Dataset' is not allowed$"
        ):
            await dataset.asave(None)
        assert dataset.threads == []

    def test_sync_save_none_is_rejected(self):
        dataset = AsyncStoreDataset()
        with pytest.raises(
            DatasetError, match=r"^Saving 'None' to a 'Dataset' is not allowed$"
        ):
            dataset.save(None)
        assert dataset.threads == []

    def test_sync_errors_are_translated_like_async_ones(self):
        error = KeyError("missing")
        dataset = AsyncStoreDataset(error=error)
        with pytest.raises(DatasetError) as load_info:
            dataset.load()
        assert str(load_info.value) == (
            f"Failed while loading data from dataset {dataset!s}.\n'missing'"
        )
        assert load_info.value.__cause__ is error
        with pytest.raises(DatasetError, match="Failed during exists check"):
            dataset.exists()

    @pytest.mark.anyio
    async def test_arelease_calls_release(self):
        dataset = AsyncStoreDataset()
        assert await dataset.arelease() is None

    def test_repr(self):
        assert repr(AsyncStoreDataset()) == f"{MODULE}.AsyncStoreDataset(kind='async')"
