"""Tests for ``dagloop.io.data_catalog``: ``DataCatalog`` and ``SharedMemoryDataCatalog``."""

from __future__ import annotations

import copy
import logging
import multiprocessing
import pickle
import re
import threading
from multiprocessing.managers import BaseProxy, SyncManager
from pathlib import Path, PurePosixPath
from typing import Any

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest

from dagloop.io import (
    AbstractDataset,
    AbstractVersionedDataset,
    CachedDataset,
    CatalogConfigResolver,
    CatalogProtocol,
    DataCatalog,
    DatasetError,
    DatasetNotFoundError,
    MemoryDataset,
    SharedMemoryCatalogProtocol,
    SharedMemoryDataCatalog,
    SharedMemoryDataset,
    Version,
    VersionAlreadyExistsError,
    _async,
)

LOGGER = "dagloop.io.data_catalog"
MODULE = __name__
MEMORY = "dagloop.io.memory_dataset.MemoryDataset"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z$")
RUNTIME = {"{default}": {"type": "dagloop.io.MemoryDataset"}}
OLD = "2020-01-01T00.00.00.000Z"
NEW = "2021-01-01T00.00.00.000Z"

#: Threads that constructed a ``TrackedDataset`` (cleared for every test).
CONSTRUCTED: list[int] = []


@pytest.fixture(autouse=True)
def _clear_constructed():
    CONSTRUCTED.clear()
    yield
    CONSTRUCTED.clear()


# ------------------------------------------------------------------ datasets


class TrackedDataset(AbstractDataset[Any, Any]):
    """Records the thread it was built in; keeps data in memory."""

    def __init__(
        self,
        data: Any = None,
        filepath: str | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        CONSTRUCTED.append(threading.get_ident())
        self.data = data
        self.filepath = filepath
        self.credentials = credentials
        self.threads: list[int] = []

    def load(self) -> Any:
        self.threads.append(threading.get_ident())
        return self.data

    def save(self, data: Any) -> None:
        self.threads.append(threading.get_ident())
        self.data = data

    def _exists(self) -> bool:
        return self.data is not None

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self.filepath}


class ConfirmableDataset(MemoryDataset):
    def __init__(self, data: Any = None) -> None:
        super().__init__(data)
        self.confirmed = 0

    def confirm(self) -> None:
        self.confirmed += 1


class AsyncNativeDataset(AbstractDataset[Any, Any]):
    def __init__(self) -> None:
        self.data: Any = None
        self.threads: list[int] = []

    async def _aload(self) -> Any:
        self.threads.append(threading.get_ident())
        await anyio.lowlevel.checkpoint()
        return self.data

    async def _asave(self, data: Any) -> None:
        self.threads.append(threading.get_ident())
        await anyio.lowlevel.checkpoint()
        self.data = data

    async def _aexists(self) -> bool:
        await anyio.lowlevel.checkpoint()
        return self.data is not None

    def _describe(self) -> dict[str, Any]:
        return {}


class TextVersionedDataset(AbstractVersionedDataset[str, str]):
    def __init__(self, filepath: str, version: Version | None = None) -> None:
        super().__init__(PurePosixPath(filepath), version)

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


class LambdaDataset(MemoryDataset):
    """Cannot be pickled: it holds a lambda."""

    def __init__(self) -> None:
        super().__init__()
        self.transform = lambda x: x


class MemoryManager(SyncManager):
    pass


MemoryManager.register("MemoryDataset", MemoryDataset)


def tracked_config(**kwargs: Any) -> dict[str, Any]:
    return {"type": f"{MODULE}.TrackedDataset", **kwargs}


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == LOGGER and r.levelno == level
    ]


# -------------------------------------------------------------- construction


class TestConstruction:
    def test_datasets_dict_is_aliased(self):
        datasets = {"a": MemoryDataset(1)}
        catalog = DataCatalog(datasets=datasets)
        catalog["b"] = 2
        assert set(datasets) == {"a", "b"}
        assert catalog._datasets is datasets

    def test_empty_datasets_dict_is_not_aliased(self):
        datasets: dict[str, Any] = {}
        catalog = DataCatalog(datasets=datasets)
        catalog["b"] = 2
        assert datasets == {}

    def test_empty_catalog(self):
        catalog = DataCatalog()
        assert catalog.keys() == []
        assert len(catalog) == 0
        assert catalog.config_resolver.list_patterns() == ["{default}"]

    def test_default_runtime_pattern(self):
        assert DataCatalog.default_runtime_patterns == RUNTIME
        assert DataCatalog().config_resolver.resolve_pattern("x") == {
            "type": "dagloop.io.MemoryDataset"
        }

    def test_config_entries_are_lazy(self):
        catalog = DataCatalog.from_config({"lazy": tracked_config(data=1)})
        assert "lazy" in catalog
        assert catalog.keys() == ["lazy"]
        assert CONSTRUCTED == []
        assert catalog.load("lazy") == 1
        assert len(CONSTRUCTED) == 1
        catalog.load("lazy")
        assert len(CONSTRUCTED) == 1

    def test_dataset_and_config_with_the_same_name(self, caplog):
        resolver = CatalogConfigResolver(
            {"a": tracked_config(), "b": tracked_config()},
            default_runtime_patterns=RUNTIME,
        )
        dataset = MemoryDataset(1)
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            catalog = DataCatalog(datasets={"a": dataset}, config_resolver=resolver)
        assert messages(caplog, logging.WARNING) == [
            "Cannot register dataset 'a' from config: a dataset with the same name "
            "was already provided in the `datasets` argument."
        ]
        assert catalog["a"] is dataset
        assert "a" not in resolver.config
        assert "b" in resolver.config
        assert catalog.keys() == ["b", "a"]

    def test_missing_type_raises_at_construction(self):
        with pytest.raises(DatasetError) as exc_info:
            DataCatalog.from_config({"a": {"filepath": "x"}})
        assert str(exc_info.value) == (
            "An exception occurred when parsing config for dataset 'a':\n"
            "'type' is missing from dataset catalog configuration.\n"
            "Hint: If this catalog entry is intended for variable interpolation, "
            "make sure that the top level key is preceded by an underscore."
        )

    def test_non_dict_entry_raises_at_construction(self):
        with pytest.raises(DatasetError, match="Catalog entry 'a' is not a valid"):
            DataCatalog.from_config({"a": "not a dict"})

    def test_bad_class_path_raises_at_first_access(self):
        catalog = DataCatalog.from_config({"a": {"type": "NoSuchDataset"}})
        assert "a" in catalog
        with pytest.raises(DatasetError) as exc_info:
            catalog["a"]
        assert str(exc_info.value).startswith(
            "An exception occurred when parsing config for dataset 'a':\n"
            "Empty module name. Invalid dataset path: 'NoSuchDataset'."
        )

    def test_bad_constructor_arguments_raise_at_first_access(self):
        catalog = DataCatalog.from_config({"a": tracked_config(bogus=1)})
        with pytest.raises(DatasetError, match="must only contain arguments valid"):
            catalog.load("a")

    def test_versioned_datasets_pin_versions(self, tmp_path):
        catalog = DataCatalog(
            datasets={
                "v": TextVersionedDataset(str(tmp_path / "v.txt"), Version(OLD, NEW))
            }
        )
        _, _, load_versions, save_version = catalog.to_config()
        assert load_versions == {"v": OLD}
        assert save_version == NEW

    def test_conflicting_save_versions(self, tmp_path):
        with pytest.raises(VersionAlreadyExistsError) as exc_info:
            DataCatalog(
                datasets={
                    "a": TextVersionedDataset(str(tmp_path / "a"), Version(None, OLD)),
                    "b": TextVersionedDataset(str(tmp_path / "b"), Version(None, NEW)),
                }
            )
        assert str(exc_info.value) == (
            f"Cannot add a dataset `b` with `{NEW}` save version. Save version set "
            f"for the catalog is `{OLD}`All datasets in the catalog must have the "
            "same save version."
        )


# --------------------------------------------------------------- dict access


class TestContains:
    def test_registered_lazy_and_pattern_names(self):
        catalog = DataCatalog.from_config(
            {"lazy": tracked_config(), "{name}_csv": tracked_config()}
        )
        catalog["built"] = 1
        assert "built" in catalog
        assert "lazy" in catalog
        assert "cars_csv" in catalog
        assert "cars" not in catalog
        assert CONSTRUCTED == []

    def test_runtime_pattern_does_not_count(self):
        assert "anything" not in DataCatalog()

    def test_user_catch_all_counts(self):
        catalog = DataCatalog.from_config({"{any}": {"type": "MemoryDataset"}})
        assert "anything" in catalog


class TestGetItem:
    def test_unknown_name(self):
        with pytest.raises(DatasetNotFoundError) as exc_info:
            DataCatalog()["missing"]
        assert str(exc_info.value) == "Dataset 'missing' not found in the catalog"

    def test_registered_dataset_is_returned_as_is(self):
        dataset = TrackedDataset()
        assert DataCatalog({"a": dataset})["a"] is dataset

    def test_pattern_dataset_is_built_and_registered(self):
        catalog = DataCatalog.from_config(
            {"{name}_tracked": tracked_config(filepath="{name}.bin")}
        )
        dataset = catalog["cars_tracked"]
        assert isinstance(dataset, TrackedDataset)
        assert dataset.filepath == "cars.bin"
        assert catalog.keys() == ["cars_tracked"]
        assert catalog["cars_tracked"] is dataset


class TestSetItem:
    @pytest.mark.parametrize("value", [1, "text", [1, 2], {"a": 1}, None])
    def test_raw_values_become_memory_datasets(self, value):
        catalog = DataCatalog()
        catalog["raw"] = value
        assert isinstance(catalog["raw"], MemoryDataset)
        assert catalog.load("raw") == value

    def test_datasets_are_stored_as_they_are(self):
        dataset = TrackedDataset()
        catalog = DataCatalog()
        catalog["ds"] = dataset
        assert catalog["ds"] is dataset

    def test_replacing_a_dataset_warns(self, caplog):
        catalog = DataCatalog({"a": MemoryDataset(1)})
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            catalog["a"] = 2
        assert messages(caplog, logging.WARNING) == ["Replacing dataset 'a'"]
        assert catalog.load("a") == 2

    def test_replacing_a_lazy_dataset_forgets_its_config(self, caplog):
        catalog = DataCatalog.from_config(
            {"a": tracked_config(), "b": tracked_config()}, load_versions={"a": OLD}
        )
        replacement = TrackedDataset(data="replaced")
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            catalog["a"] = replacement
        assert messages(caplog, logging.WARNING) == ["Replacing dataset 'a'"]
        assert "a" not in catalog.config_resolver.config
        assert catalog["a"] is replacement
        assert catalog.load("a") == "replaced"
        assert catalog.to_config()[2] == {"b": None, "a": None}
        assert len(CONSTRUCTED) == 1  # only the replacement was built

    def test_new_name_does_not_warn(self, caplog):
        catalog = DataCatalog()
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            catalog["a"] = 1
        assert messages(caplog, logging.WARNING) == []

    def test_versioned_dataset_with_other_save_version_is_rejected(self, tmp_path):
        catalog = DataCatalog.from_config({}, save_version=OLD)
        with pytest.raises(VersionAlreadyExistsError):
            catalog["v"] = TextVersionedDataset(str(tmp_path / "v"), Version(None, NEW))
        catalog["w"] = TextVersionedDataset(str(tmp_path / "w"), Version(None, OLD))

    def test_cached_versioned_dataset_is_reconciled(self, tmp_path):
        catalog = DataCatalog.from_config({}, save_version=OLD)
        wrapped = TextVersionedDataset(str(tmp_path / "v"), Version(OLD, NEW))
        with pytest.raises(VersionAlreadyExistsError):
            catalog["v"] = CachedDataset(wrapped)

    def test_cached_versioned_dataset_pins_load_version(self, tmp_path):
        wrapped = TextVersionedDataset(str(tmp_path / "v"), Version(OLD, None))
        catalog = DataCatalog({"v": CachedDataset(wrapped)})
        assert catalog.to_config()[2] == {"v": OLD}


class TestKeysValuesItems:
    def test_lazy_names_come_first(self):
        catalog = DataCatalog.from_config(
            {"a": tracked_config(), "b": tracked_config()}
        )
        catalog["c"] = 1
        assert catalog.keys() == ["a", "b", "c"]
        catalog["a"]
        assert catalog.keys() == ["b", "c", "a"]

    def test_iter_and_len(self):
        catalog = DataCatalog.from_config({"a": tracked_config()})
        catalog["b"] = 1
        assert list(catalog) == ["a", "b"]
        assert len(catalog) == 2
        assert catalog._ipython_key_completions_() == ["a", "b"]

    def test_values_and_items_materialise_everything(self):
        catalog = DataCatalog.from_config(
            {"a": tracked_config(), "b": tracked_config()}
        )
        values = catalog.values()
        assert [type(v) for v in values] == [TrackedDataset, TrackedDataset]
        assert len(CONSTRUCTED) == 2
        assert catalog.items() == [("a", values[0]), ("b", values[1])]
        assert isinstance(catalog.values(), list)

    def test_items_of_materialised_catalog(self):
        a, b = MemoryDataset(1), MemoryDataset(2)
        assert DataCatalog({"a": a, "b": b}).items() == [("a", a), ("b", b)]


class TestEqualityAndRepr:
    def test_same_dataset_objects_are_equal(self):
        a = MemoryDataset(1)
        assert DataCatalog({"a": a}) == DataCatalog({"a": a})

    def test_copies_are_not_equal(self):
        catalog = DataCatalog({"a": MemoryDataset(1)})
        assert catalog != copy.deepcopy(catalog)

    def test_deepcopy_and_pickle_round_trips(self):
        catalog = DataCatalog.from_config(
            {"lazy": {"type": "MemoryDataset", "data": 2}}
        )
        catalog["a"] = 1
        for clone in (copy.deepcopy(catalog), pickle.loads(pickle.dumps(catalog))):
            assert clone.keys() == ["lazy", "a"]
            assert clone.load("a") == 1
            assert clone.load("lazy") == 2
            clone["a"] = 3
        assert catalog.load("a") == 1

    def test_lazy_entries_compare_by_identity(self):
        config = {"a": {"type": "MemoryDataset"}}
        assert DataCatalog.from_config(config) != DataCatalog.from_config(config)

    def test_patterns_are_compared(self):
        a = MemoryDataset(1)
        with_pattern = DataCatalog(
            {"a": a},
            config_resolver=CatalogConfigResolver(
                {"{x}_csv": {"type": "MemoryDataset"}}, default_runtime_patterns=RUNTIME
            ),
        )
        assert with_pattern != DataCatalog({"a": a})

    def test_unhashable(self):
        with pytest.raises(TypeError, match="unhashable"):
            hash(DataCatalog())

    def test_repr_lists_lazy_entries_first_by_class_path(self):
        catalog = DataCatalog.from_config({"lazy": tracked_config()})
        catalog["built"] = 1
        assert repr(catalog) == (
            f"'lazy': {MODULE}.TrackedDataset\n'built': {MEMORY}(data='<int>')"
        )
        assert CONSTRUCTED == []

    def test_repr_of_empty_catalog(self):
        assert repr(DataCatalog()) == ""

    def test_repr_of_lazy_entry_without_type_raises(self):
        catalog = DataCatalog.from_config({"a": {"type": "MemoryDataset"}})
        del catalog._lazy_datasets["a"].config["type"]
        with pytest.raises(KeyError, match="type"):
            repr(catalog)


# ----------------------------------------------------------------------- get


class TestGet:
    def test_unknown_name_gives_none(self):
        catalog = DataCatalog()
        assert catalog.get("missing") is None
        assert catalog.keys() == []

    def test_fallback_to_runtime_pattern_registers_a_memory_dataset(self):
        catalog = DataCatalog()
        dataset = catalog.get("new", fallback_to_runtime_pattern=True)
        assert type(dataset) is MemoryDataset
        assert "new" in catalog
        assert catalog.keys() == ["new"]
        assert catalog.get("new") is dataset
        assert catalog.config_resolver.list_patterns() == ["{default}"]

    def test_fallback_prefers_dataset_patterns(self):
        catalog = DataCatalog.from_config({"{name}_t": tracked_config()})
        assert isinstance(
            catalog.get("x_t", fallback_to_runtime_pattern=True), TrackedDataset
        )

    def test_fallback_for_registered_dataset(self):
        dataset = TrackedDataset()
        catalog = DataCatalog({"a": dataset})
        assert catalog.get("a", fallback_to_runtime_pattern=True) is dataset

    def test_version_returns_a_versioned_copy(self, tmp_path):
        base = tmp_path / "v.txt"
        stored = TextVersionedDataset(str(base), Version(None, None))
        catalog = DataCatalog({"v": stored})
        copied = catalog.get("v", version=Version(OLD, None))
        assert copied is not stored
        assert isinstance(copied, TextVersionedDataset)
        assert copied._version == Version(OLD, None)
        assert stored._version == Version(None, None)
        assert catalog["v"] is stored

    def test_version_is_ignored_for_unversioned_datasets(self):
        dataset = TrackedDataset()
        catalog = DataCatalog({"a": dataset})
        assert catalog.get("a", version=Version(OLD, None)) is dataset


# -------------------------------------------------------------------- sync I/O


class TestLoad:
    def test_load_logs_and_returns_data(self, caplog):
        catalog = DataCatalog({"a": MemoryDataset([1])})
        with caplog.at_level(logging.INFO, logger=LOGGER):
            assert catalog.load("a") == [1]
        assert messages(caplog, logging.INFO) == [
            "Loading data from a (MemoryDataset)..."
        ]

    def test_unknown_name(self):
        with pytest.raises(DatasetNotFoundError) as exc_info:
            DataCatalog().load("missing")
        assert str(exc_info.value) == "Dataset 'missing' not found in the catalog"

    def test_dataset_errors_propagate(self):
        with pytest.raises(DatasetError, match="has not been saved yet"):
            DataCatalog({"a": MemoryDataset()}).load("a")

    def test_load_a_pinned_version(self, tmp_path):
        base = tmp_path / "v.txt"
        for version, text in ((OLD, "old"), (NEW, "new")):
            (base / version).mkdir(parents=True)
            (base / version / base.name).write_text(text)
        catalog = DataCatalog(
            {"v": TextVersionedDataset(str(base), Version(None, None))}
        )
        assert catalog.load("v") == "new"
        assert catalog.load("v", version=OLD) == "old"
        assert catalog.load("v") == "new"

    def test_load_versions_from_config(self, tmp_path):
        base = tmp_path / "v.txt"
        for version, text in ((OLD, "old"), (NEW, "new")):
            (base / version).mkdir(parents=True)
            (base / version / base.name).write_text(text)
        config = {
            "v": {
                "type": f"{MODULE}.TextVersionedDataset",
                "filepath": str(base),
                "versioned": True,
            }
        }
        assert DataCatalog.from_config(config).load("v") == "new"
        pinned = DataCatalog.from_config(config, load_versions={"v": OLD})
        assert pinned.load("v") == "old"
        assert pinned["v"]._version.load == OLD


class TestSave:
    def test_save_logs_and_stores(self, caplog):
        dataset = TrackedDataset()
        catalog = DataCatalog({"a": dataset})
        with caplog.at_level(logging.INFO, logger=LOGGER):
            catalog.save("a", {"x": 1})
        assert messages(caplog, logging.INFO) == [
            "Saving data to a (TrackedDataset)..."
        ]
        assert dataset.data == {"x": 1}

    def test_unknown_name_does_not_use_the_runtime_pattern(self):
        catalog = DataCatalog()
        with pytest.raises(DatasetNotFoundError) as exc_info:
            catalog.save("missing", 1)
        assert str(exc_info.value) == "Dataset 'missing' not found in the catalog"
        assert catalog.keys() == []

    def test_save_through_a_dataset_pattern(self):
        catalog = DataCatalog.from_config({"{name}_t": tracked_config()})
        catalog.save("cars_t", 5)
        assert catalog.keys() == ["cars_t"]
        assert catalog.load("cars_t") == 5

    def test_save_none_is_rejected(self):
        with pytest.raises(DatasetError, match="Saving 'None'"):
            DataCatalog({"a": MemoryDataset()}).save("a", None)

    def test_save_versioned_under_the_catalog_save_version(self, tmp_path):
        base = tmp_path / "v.txt"
        config = {
            "v": {
                "type": f"{MODULE}.TextVersionedDataset",
                "filepath": str(base),
                "versioned": True,
            }
        }
        DataCatalog.from_config(config, save_version=OLD).save("v", "first")
        DataCatalog.from_config(config, save_version=NEW).save("v", "second")
        assert (base / OLD / base.name).read_text() == "first"
        assert (base / NEW / base.name).read_text() == "second"


class TestExistsReleaseConfirm:
    def test_exists(self):
        catalog = DataCatalog({"full": MemoryDataset(1), "empty": MemoryDataset()})
        assert catalog.exists("full") is True
        assert catalog.exists("empty") is False
        assert catalog.exists("missing") is False

    def test_exists_of_lazy_dataset(self):
        catalog = DataCatalog.from_config({"a": tracked_config(data=1)})
        assert catalog.exists("a") is True

    def test_release(self):
        catalog = DataCatalog({"a": MemoryDataset(1)})
        catalog.release("a")
        assert catalog.exists("a") is False

    def test_release_unknown(self):
        with pytest.raises(DatasetNotFoundError, match="Dataset 'missing' not found"):
            DataCatalog().release("missing")

    def test_confirm(self, caplog):
        dataset = ConfirmableDataset()
        catalog = DataCatalog({"a": dataset})
        with caplog.at_level(logging.INFO, logger=LOGGER):
            catalog.confirm("a")
        assert dataset.confirmed == 1
        assert messages(caplog, logging.INFO) == ["Confirming dataset 'a'"]

    def test_confirm_without_confirm_method(self):
        with pytest.raises(DatasetError) as exc_info:
            DataCatalog({"a": MemoryDataset()}).confirm("a")
        assert str(exc_info.value) == "Dataset 'a' does not have 'confirm' method"

    def test_confirm_unknown(self, caplog):
        with (
            caplog.at_level(logging.INFO, logger=LOGGER),
            pytest.raises(DatasetNotFoundError, match="Dataset 'missing' not found"),
        ):
            DataCatalog().confirm("missing")
        assert messages(caplog, logging.INFO) == ["Confirming dataset 'missing'"]


# ------------------------------------------------------------- filter / type


@pytest.fixture
def mixed_catalog():
    catalog = DataCatalog.from_config(
        {
            "raw_cars": tracked_config(),
            "raw_planes": {"type": "MemoryDataset"},
            "{name}_t": tracked_config(),
        }
    )
    catalog["model_input"] = 1
    catalog["model_output"] = TrackedDataset()
    return catalog


class TestFilter:
    def test_no_criteria(self, mixed_catalog):
        assert mixed_catalog.filter() == mixed_catalog.keys()

    def test_name_regex(self, mixed_catalog):
        assert mixed_catalog.filter(name_regex="^raw") == ["raw_cars", "raw_planes"]
        assert mixed_catalog.filter(name_regex=re.compile("model_")) == [
            "model_input",
            "model_output",
        ]
        assert mixed_catalog.filter(name_regex="cars|output") == [
            "raw_cars",
            "model_output",
        ]

    def test_type_regex(self, mixed_catalog):
        assert mixed_catalog.filter(type_regex="MemoryDataset") == [
            "raw_planes",
            "model_input",
        ]
        assert mixed_catalog.filter(type_regex=rf"^{MODULE}\.") == [
            "raw_cars",
            "model_output",
        ]
        assert mixed_catalog.filter(type_regex="dagloop.io.memory_dataset") == [
            "raw_planes",
            "model_input",
        ]

    def test_by_type(self, mixed_catalog):
        assert mixed_catalog.filter(by_type=TrackedDataset) == [
            "raw_cars",
            "model_output",
        ]
        assert mixed_catalog.filter(by_type=[TrackedDataset, MemoryDataset]) == [
            "raw_cars",
            "raw_planes",
            "model_input",
            "model_output",
        ]

    def test_by_type_is_exact(self, mixed_catalog):
        mixed_catalog["confirmable"] = ConfirmableDataset()
        assert mixed_catalog.filter(by_type=MemoryDataset) == [
            "raw_planes",
            "model_input",
        ]

    def test_combined_criteria(self, mixed_catalog):
        assert mixed_catalog.filter(name_regex="^model", by_type=TrackedDataset) == [
            "model_output"
        ]
        assert mixed_catalog.filter(name_regex="raw", type_regex="Memory") == [
            "raw_planes"
        ]

    def test_lazy_datasets_are_not_materialised(self, mixed_catalog):
        constructed = len(CONSTRUCTED)
        mixed_catalog.filter(type_regex="Tracked", by_type=TrackedDataset)
        assert len(CONSTRUCTED) == constructed
        assert mixed_catalog.keys()[:2] == ["raw_cars", "raw_planes"]


class TestGetType:
    def test_materialised(self, mixed_catalog):
        assert mixed_catalog.get_type("model_input") == MEMORY

    def test_lazy_without_materialising(self, mixed_catalog):
        constructed = len(CONSTRUCTED)
        assert mixed_catalog.get_type("raw_cars") == f"{MODULE}.TrackedDataset"
        assert len(CONSTRUCTED) == constructed
        assert "raw_cars" in mixed_catalog._lazy_datasets

    def test_pattern_without_registering(self, mixed_catalog):
        keys = mixed_catalog.keys()
        assert mixed_catalog.get_type("boats_t") == f"{MODULE}.TrackedDataset"
        assert mixed_catalog.keys() == keys

    def test_unknown(self, mixed_catalog):
        assert mixed_catalog.get_type("unknown") is None


# ------------------------------------------------------------ config round trip


class TestFromConfig:
    def test_credentials_are_resolved(self):
        catalog = DataCatalog.from_config(
            {"a": tracked_config(credentials="db")}, credentials={"db": {"token": "t"}}
        )
        assert catalog["a"].credentials == {"token": "t"}

    def test_missing_credentials(self):
        with pytest.raises(KeyError, match="Unable to find credentials 'db'"):
            DataCatalog.from_config({"a": tracked_config(credentials="db")})

    def test_unknown_load_versions_keys(self):
        with pytest.raises(DatasetNotFoundError) as exc_info:
            DataCatalog.from_config(
                {"a": tracked_config(), "{x}_p": tracked_config()},
                load_versions={"z": OLD, "b": OLD, "y_p": OLD, "a": OLD},
            )
        assert str(exc_info.value) == (
            "'load_versions' keys [b, z] are not found in the catalog."
        )

    def test_load_versions_reach_pattern_datasets(self, tmp_path):
        catalog = DataCatalog.from_config(
            {
                "{name}_v": {
                    "type": f"{MODULE}.TextVersionedDataset",
                    "filepath": str(tmp_path / "{name}.txt"),
                    "versioned": True,
                }
            },
            load_versions={"a_v": OLD},
            save_version=NEW,
        )
        assert catalog["a_v"]._version == Version(OLD, NEW)
        assert catalog["b_v"]._version == Version(None, NEW)
        assert catalog.exists("b_v") is False

    def test_save_version_defaults_to_a_timestamp(self):
        assert TIMESTAMP.match(DataCatalog.from_config({}).to_config()[3])

    def test_given_save_version(self):
        assert DataCatalog.from_config({}, save_version=OLD).to_config()[3] == OLD

    def test_none_gives_an_empty_catalog(self):
        catalog = DataCatalog.from_config(None)
        assert catalog.keys() == []
        assert catalog.config_resolver.list_patterns() == ["{default}"]

    def test_patterns_from_config(self):
        catalog = DataCatalog.from_config({"{name}_t": tracked_config()})
        assert catalog.config_resolver.list_patterns() == ["{name}_t", "{default}"]
        assert catalog.keys() == []

    def test_kedro_io_type_strings(self):
        catalog = DataCatalog.from_config(
            {"a": {"type": "kedro.io.MemoryDataset", "data": 1}}
        )
        assert type(catalog["a"]) is MemoryDataset


class TestToConfig:
    def test_round_trip(self):
        catalog = DataCatalog.from_config(
            {
                "lazy": tracked_config(filepath="l.bin", credentials="lazy_creds"),
                "mem": {"type": "MemoryDataset"},
                "{name}_t": tracked_config(),
            },
            credentials={"lazy_creds": {"token": "L"}},
            save_version=OLD,
        )
        catalog["built"] = TrackedDataset(filepath="b.bin", credentials={"token": "B"})
        catalog["raw"] = 42
        config, credentials, load_versions, save_version = catalog.to_config()
        assert config == {
            "lazy": {
                "type": f"{MODULE}.TrackedDataset",
                "filepath": "l.bin",
                "credentials": "lazy_credentials",
            },
            "built": {
                "type": f"{MODULE}.TrackedDataset",
                "data": None,
                "filepath": "b.bin",
                "credentials": "built_credentials",
            },
        }
        assert credentials == {
            "lazy_credentials": {"token": "L"},
            "built_credentials": {"token": "B"},
        }
        assert load_versions == {"lazy": None, "built": None}
        assert save_version == OLD

        rebuilt = DataCatalog.from_config(
            config, credentials, load_versions, save_version
        )
        assert rebuilt.keys() == ["lazy", "built"]
        assert rebuilt["lazy"].credentials == {"token": "L"}
        assert rebuilt["built"].credentials == {"token": "B"}
        assert rebuilt["built"].filepath == "b.bin"

    def test_versioned_datasets(self, tmp_path):
        path = str(tmp_path / "v.txt")
        catalog = DataCatalog(
            {"v": TextVersionedDataset(path, Version(OLD, NEW))}, save_version=None
        )
        config, _, load_versions, save_version = catalog.to_config()
        assert config == {
            "v": {
                "type": f"{MODULE}.TextVersionedDataset",
                "filepath": path,
                "versioned": True,
            }
        }
        assert load_versions == {"v": OLD}
        assert save_version == NEW
        rebuilt = DataCatalog.from_config(config, {}, load_versions, save_version)
        assert rebuilt["v"]._version == Version(OLD, NEW)

    def test_memory_datasets_are_skipped(self):
        catalog = DataCatalog({"a": MemoryDataset(1)})
        catalog.get("b", fallback_to_runtime_pattern=True)
        assert catalog.to_config() == ({}, {}, {}, None)


# ------------------------------------------------------- SharedMemoryDataCatalog


@pytest.fixture(scope="module")
def manager():
    # One manager per module: each dataset gets its own proxied MemoryDataset.
    # forkserver: the manager process is not forked from this multi-threaded one.
    started = MemoryManager(ctx=multiprocessing.get_context("forkserver"))
    started.start()
    yield started
    started.shutdown()


class TestSharedMemoryDataCatalog:
    def test_runtime_pattern_gives_shared_memory_datasets(self):
        catalog = SharedMemoryDataCatalog()
        assert SharedMemoryDataCatalog.default_runtime_patterns == {
            "{default}": {"type": "dagloop.io.SharedMemoryDataset"}
        }
        dataset = catalog.get("x", fallback_to_runtime_pattern=True)
        assert type(dataset) is SharedMemoryDataset

    def test_from_config_keeps_the_runtime_pattern(self):
        catalog = SharedMemoryDataCatalog.from_config({"a": {"type": "MemoryDataset"}})
        assert type(catalog.get("x", fallback_to_runtime_pattern=True)) is (
            SharedMemoryDataset
        )

    def test_raw_values_become_memory_datasets(self):
        catalog = SharedMemoryDataCatalog()
        catalog["raw"] = 1
        assert type(catalog["raw"]) is MemoryDataset

    def test_valid_catalog(self):
        catalog = SharedMemoryDataCatalog({"m": MemoryDataset(1)})
        catalog.get("shared", fallback_to_runtime_pattern=True)
        assert catalog.validate_catalog() is None

    def test_validate_catalog_lists_offenders(self):
        catalog = SharedMemoryDataCatalog(
            {
                "ok": MemoryDataset(1),
                "unpicklable": LambdaDataset(),
                "cached": CachedDataset(MemoryDataset(1)),
            }
        )
        with pytest.raises(AttributeError) as exc_info:
            catalog.validate_catalog()
        assert str(exc_info.value) == (
            "The following datasets cannot be used with multiprocessing: "
            "['cached', 'unpicklable']\nIn order to utilize multiprocessing you "
            "need to make sure all datasets are serialisable, i.e. datasets should "
            "not make use of lambda functions, nested functions, closures etc.\n"
            "If you are using custom decorators ensure they are correctly decorated "
            "using functools.wraps()."
        )

    def test_lazy_datasets_are_not_validated(self):
        catalog = SharedMemoryDataCatalog.from_config(
            {"c": {"type": "CachedDataset", "dataset": {"type": "MemoryDataset"}}}
        )
        catalog.validate_catalog()
        catalog["c"]
        with pytest.raises(AttributeError, match=r"\['c'\]"):
            catalog.validate_catalog()

    def test_set_manager_datasets(self, manager):
        catalog = SharedMemoryDataCatalog({"plain": MemoryDataset(1)})
        shared = catalog.get("shared", fallback_to_runtime_pattern=True)
        catalog.set_manager_datasets(manager)
        assert isinstance(shared.shared_memory_dataset, BaseProxy)
        catalog.save("shared", [1, 2])
        assert shared.shared_memory_dataset.load() == [1, 2]
        assert catalog.load("shared") == [1, 2]
        assert catalog.load("plain") == 1


class TestProtocols:
    def test_data_catalog(self):
        assert isinstance(DataCatalog(), CatalogProtocol)
        assert not isinstance(DataCatalog(), SharedMemoryCatalogProtocol)

    def test_shared_memory_data_catalog(self):
        assert isinstance(SharedMemoryDataCatalog(), CatalogProtocol)
        assert isinstance(SharedMemoryDataCatalog(), SharedMemoryCatalogProtocol)

    def test_other_objects(self):
        assert not isinstance({}, CatalogProtocol)
        assert not isinstance(MemoryDataset(), CatalogProtocol)


# ---------------------------------------------------------------------- async


class LoadProbe:
    """Counts ``load`` calls in progress; loads block until ``gate`` opens."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = 0
        self.max_active = 0
        self.gate = threading.Event()
        self.timed_out = False


class BlockingDataset(AbstractDataset[Any, Any]):
    def __init__(self, value: int, probe: LoadProbe) -> None:
        self.value = value
        self.probe = probe

    def load(self) -> int:
        probe = self.probe
        with probe.lock:
            probe.active += 1
            probe.max_active = max(probe.max_active, probe.active)
        try:
            if not probe.gate.wait(timeout=20):
                probe.timed_out = True
                probe.gate.set()  # fail fast: let the other loads finish
        finally:
            with probe.lock:
                probe.active -= 1
        return self.value

    def save(self, data: int) -> None:
        self.value = data

    def _describe(self) -> dict[str, Any]:
        return {"value": self.value}


class GatedConstructionDataset(MemoryDataset):
    """Its constructor blocks until the test opens ``GATE``."""

    GATE = threading.Event()
    ENTERED = threading.Event()

    def __init__(self, data: Any = None) -> None:
        type(self).ENTERED.set()
        type(self).GATE.wait(timeout=20)
        CONSTRUCTED.append(threading.get_ident())
        super().__init__(data)


class TestAsyncCatalog:
    @pytest.mark.anyio
    async def test_a_memory_datasets_own_async_methods_are_called(self):
        # The catalog calls an in-memory dataset's sync method directly only
        # when its async methods are AbstractDataset's: overrides are honoured.
        calls: list[str] = []

        class Traced(MemoryDataset):
            async def aload(self) -> Any:
                calls.append("aload")
                return await super().aload()

            async def asave(self, data: Any) -> None:
                calls.append("asave")
                await super().asave(data)

            async def arelease(self) -> None:
                calls.append("arelease")
                await super().arelease()

        catalog = DataCatalog({"a": Traced()})
        await catalog.asave("a", 1)
        assert await catalog.aload("a") == 1
        await catalog.arelease("a")
        assert calls == ["asave", "aload", "arelease"]

    @pytest.mark.anyio
    async def test_async_operations(self, caplog):
        catalog = DataCatalog({"a": MemoryDataset()})
        with caplog.at_level(logging.INFO, logger=LOGGER):
            assert await catalog.aexists("a") is False
            await catalog.asave("a", {"x": 1})
            assert await catalog.aload("a") == {"x": 1}
            assert await catalog.aexists("a") is True
            await catalog.arelease("a")
            assert await catalog.aexists("a") is False
        assert messages(caplog, logging.INFO) == [
            "Saving data to a (MemoryDataset)...",
            "Loading data from a (MemoryDataset)...",
        ]

    @pytest.mark.anyio
    async def test_unknown_names(self):
        catalog = DataCatalog()
        with pytest.raises(
            DatasetNotFoundError, match=r"^Dataset 'x' not found in the catalog$"
        ):
            await catalog.aload("x")
        with pytest.raises(
            DatasetNotFoundError, match=r"^Dataset 'x' not found in the catalog$"
        ):
            await catalog.asave("x", 1)
        with pytest.raises(
            DatasetNotFoundError, match=r"^Dataset 'x' not found in the catalog$"
        ):
            await catalog.arelease("x")
        assert await catalog.aexists("x") is False
        assert catalog.keys() == []

    @pytest.mark.anyio
    async def test_sync_dataset_io_runs_in_worker_threads(self):
        loop_thread = threading.get_ident()
        dataset = TrackedDataset()
        catalog = DataCatalog({"t": dataset})
        await catalog.asave("t", 1)
        assert await catalog.aload("t") == 1
        assert len(dataset.threads) == 2
        assert loop_thread not in dataset.threads

    @pytest.mark.anyio
    async def test_async_dataset_io_runs_on_the_loop(self):
        loop_thread = threading.get_ident()
        dataset = AsyncNativeDataset()
        catalog = DataCatalog({"n": dataset})
        await catalog.asave("n", "v")
        assert await catalog.aload("n") == "v"
        assert await catalog.aexists("n") is True
        assert dataset.threads == [loop_thread, loop_thread]

    @pytest.mark.anyio
    async def test_aload_a_version(self, tmp_path):
        base = tmp_path / "v.txt"
        for version, text in ((OLD, "old"), (NEW, "new")):
            (base / version).mkdir(parents=True)
            (base / version / base.name).write_text(text)
        catalog = DataCatalog(
            {"v": TextVersionedDataset(str(base), Version(None, None))}
        )
        assert await catalog.aload("v") == "new"
        assert await catalog.aload("v", version=OLD) == "old"

    @pytest.mark.anyio
    async def test_lazy_materialisation_happens_off_the_loop(self):
        loop_thread = threading.get_ident()
        catalog = DataCatalog.from_config(
            {"lazy": tracked_config(data=1), "{name}_t": tracked_config(data=2)}
        )
        assert await catalog.aload("lazy") == 1
        assert await catalog.aload("x_t") == 2
        await catalog.asave("y_t", 3)
        assert len(CONSTRUCTED) == 3
        assert loop_thread not in CONSTRUCTED

    @pytest.mark.anyio
    async def test_aexists_and_arelease_of_lazy_datasets_off_the_loop(self):
        loop_thread = threading.get_ident()
        catalog = DataCatalog.from_config(
            {"a": tracked_config(data=1), "b": tracked_config(data=1)}
        )
        assert await catalog.aexists("a") is True
        await catalog.arelease("b")
        assert len(CONSTRUCTED) == 2
        assert loop_thread not in CONSTRUCTED

    @pytest.mark.anyio
    async def test_concurrent_loads_overlap_and_leave_the_loop_free(self):
        probe = LoadProbe()
        count = 50
        catalog = DataCatalog(
            {f"ds{i}": BlockingDataset(i, probe) for i in range(count)}
        )
        results: dict[str, int] = {}
        loads_done = anyio.Event()
        ticks_during_loads = 0

        async def load(name: str) -> None:
            results[name] = await catalog.aload(name)

        async def ticker() -> None:
            # Runs only if the loop is free while loads block in worker threads;
            # the loads wait for it to open the gate.
            nonlocal ticks_during_loads
            while not loads_done.is_set():
                if probe.active > 0:
                    ticks_during_loads += 1
                if probe.max_active > 1 and ticks_during_loads >= 10:
                    probe.gate.set()
                await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as outer:
            outer.start_soon(ticker)
            async with anyio.create_task_group() as loads:
                for name in list(catalog):
                    loads.start_soon(load, name)
            loads_done.set()

        assert not probe.timed_out
        assert results == {f"ds{i}": i for i in range(count)}
        assert ticks_during_loads >= 10
        assert probe.max_active > 1
        assert probe.active == 0

    @pytest.mark.anyio
    async def test_concurrent_saves_and_loads_of_different_datasets(self):
        datasets: dict[str, Any] = {}
        for i in range(10):
            datasets[f"mem{i}"] = MemoryDataset()
            datasets[f"sync{i}"] = TrackedDataset()
            datasets[f"async{i}"] = AsyncNativeDataset()
        catalog = DataCatalog(datasets)
        loaded: dict[str, Any] = {}

        async def round_trip(name: str) -> None:
            await catalog.asave(name, {"name": name})
            await anyio.lowlevel.checkpoint()
            loaded[name] = await catalog.aload(name)

        async with anyio.create_task_group() as tg:
            for name in list(catalog):
                tg.start_soon(round_trip, name)

        assert loaded == {name: {"name": name} for name in datasets}
        assert all(catalog.load(name) == {"name": name} for name in datasets)

    @pytest.mark.anyio
    async def test_concurrent_first_loads_of_one_lazy_dataset(self):
        GatedConstructionDataset.GATE.clear()
        GatedConstructionDataset.ENTERED.clear()
        catalog = DataCatalog.from_config(
            {"lazy": {"type": f"{MODULE}.GatedConstructionDataset", "data": "v"}}
        )
        outcomes: list[Any] = []

        async def load() -> None:
            try:
                outcomes.append(await catalog.aload("lazy"))
            except DatasetError as exc:
                outcomes.append(exc)

        async with anyio.create_task_group() as tg:
            for _ in range(10):
                tg.start_soon(load)
            await anyio.to_thread.run_sync(GatedConstructionDataset.ENTERED.wait, 20)
            await anyio.wait_all_tasks_blocked()
            GatedConstructionDataset.GATE.set()

        assert outcomes == ["v"] * 10
        assert len(CONSTRUCTED) == 1

    def test_name_stays_registered_while_it_is_materialised(self):
        seen: dict[str, Any] = {}

        class Observed(MemoryDataset):
            def __init__(self) -> None:
                def look() -> None:
                    seen["contains"] = "lazy" in catalog
                    seen["keys"] = catalog.keys()

                other = threading.Thread(target=look)
                other.start()
                other.join(timeout=20)
                super().__init__()

        catalog = DataCatalog.from_config({"lazy": {"type": Observed}})
        catalog["lazy"]
        assert seen == {"contains": True, "keys": ["lazy"]}


class TestAbandonedIOWarning:
    """A cancelled caller abandons a blocking dataset call; the warning names it."""

    @pytest.mark.anyio
    async def test_the_warning_names_the_catalog_by_its_class(self, caplog):
        release = threading.Event()

        class SlowCatalog(DataCatalog):
            def lookup(self, name: str) -> None:
                release.wait(5)

        catalog = SlowCatalog({"a": MemoryDataset(1), "b": MemoryDataset(2)})
        try:
            with caplog.at_level(logging.WARNING), anyio.move_on_after(0.05):
                await _async.in_io_thread(catalog.lookup, "x")
        finally:
            release.set()
        (record,) = [r for r in caplog.records if "Cancelled while" in r.message]
        assert "SlowCatalog.lookup('x')" in record.message
        assert "MemoryDataset" not in record.message  # not the catalog's listing
