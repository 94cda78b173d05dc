"""Datasets written for Kedro (``kedro-datasets``, ``kedro.io.AbstractDataset``
subclasses) work in a dagloop catalog, through both its sync and async faces."""

from __future__ import annotations

import re
import threading
from typing import Any

import pandas as pd
import pytest
from kedro.io import AbstractDataset as KedroAbstractDataset
from kedro_datasets.pandas import CSVDataset

from dagloop.io import CachedDataset, DataCatalog, Version

MODULE = __name__
CSV_TYPE = "kedro_datasets.pandas.CSVDataset"
V1 = "2020-01-01T00.00.00.000Z"
V2 = "2021-01-01T00.00.00.000Z"


class KedroStyleDataset(KedroAbstractDataset):
    """A user dataset written against ``kedro.io``; counts calls, records threads."""

    def __init__(self, data: Any = None, label: str = "k") -> None:
        self._data = data
        self._label = label
        self.calls = {"load": 0, "save": 0, "exists": 0, "release": 0}
        self.threads: list[int] = []

    def load(self) -> Any:
        self.calls["load"] += 1
        self.threads.append(threading.get_ident())
        return self._data

    def save(self, data: Any) -> None:
        self.calls["save"] += 1
        self.threads.append(threading.get_ident())
        self._data = data

    def _exists(self) -> bool:
        self.calls["exists"] += 1
        return self._data is not None

    def _release(self) -> None:
        self.calls["release"] += 1
        self._data = None

    def _describe(self) -> dict[str, Any]:
        return {"label": self._label}


class ThreadRecordingCSVDataset(CSVDataset):
    """kedro-datasets' CSVDataset, recording the thread of each load and save."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.threads: list[int] = []

    def load(self) -> pd.DataFrame:
        self.threads.append(threading.get_ident())
        return super().load()

    def save(self, data: pd.DataFrame) -> None:
        self.threads.append(threading.get_ident())
        super().save(data)


@pytest.fixture
def cars() -> pd.DataFrame:
    return pd.DataFrame({"make": ["a", "b"], "seats": [4, 2]})


class TestCSVDatasetInstance:
    def test_save_load_round_trip(self, tmp_path, cars):
        path = tmp_path / "cars.csv"
        catalog = DataCatalog({"cars": CSVDataset(filepath=str(path))})
        assert catalog.exists("cars") is False
        catalog.save("cars", cars)
        assert path.is_file()
        assert catalog.exists("cars") is True
        pd.testing.assert_frame_equal(catalog.load("cars"), cars)
        assert (
            catalog.get_type("cars") == "kedro_datasets.pandas.csv_dataset.CSVDataset"
        )

    @pytest.mark.anyio
    async def test_async_faces_run_in_worker_threads(self, tmp_path, cars):
        loop_thread = threading.get_ident()
        dataset = ThreadRecordingCSVDataset(filepath=str(tmp_path / "cars.csv"))
        catalog = DataCatalog({"cars": dataset})
        assert await catalog.aexists("cars") is False
        await catalog.asave("cars", cars)
        pd.testing.assert_frame_equal(await catalog.aload("cars"), cars)
        assert await catalog.aexists("cars") is True
        await catalog.arelease("cars")
        assert len(dataset.threads) == 2
        assert loop_thread not in dataset.threads


class TestCSVDatasetFromConfig:
    def test_full_class_path(self, tmp_path, cars):
        catalog = DataCatalog.from_config(
            {"cars": {"type": CSV_TYPE, "filepath": str(tmp_path / "cars.csv")}}
        )
        assert type(catalog["cars"]) is CSVDataset
        catalog.save("cars", cars)
        pd.testing.assert_frame_equal(catalog.load("cars"), cars)

    def test_load_and_save_args(self, tmp_path, cars):
        path = tmp_path / "cars.csv"
        catalog = DataCatalog.from_config(
            {
                "cars": {
                    "type": CSV_TYPE,
                    "filepath": str(path),
                    "save_args": {"sep": ";"},
                    "load_args": {"sep": ";"},
                }
            }
        )
        catalog.save("cars", cars)
        assert path.read_text().splitlines()[0] == "make;seats"
        pd.testing.assert_frame_equal(catalog.load("cars"), cars)

    @pytest.mark.anyio
    async def test_async_round_trip(self, tmp_path, cars):
        catalog = DataCatalog.from_config(
            {"cars": {"type": CSV_TYPE, "filepath": str(tmp_path / "cars.csv")}}
        )
        await catalog.asave("cars", cars)
        pd.testing.assert_frame_equal(await catalog.aload("cars"), cars)

    def test_dataset_pattern(self, tmp_path, cars):
        catalog = DataCatalog.from_config(
            {"{name}_csv": {"type": CSV_TYPE, "filepath": str(tmp_path / "{name}.csv")}}
        )
        catalog.save("cars_csv", cars)
        assert (tmp_path / "cars.csv").is_file()
        pd.testing.assert_frame_equal(catalog.load("cars_csv"), cars)

    def test_to_config_round_trip(self, tmp_path, cars):
        path = str(tmp_path / "cars.csv")
        catalog = DataCatalog(
            {"cars": CSVDataset(filepath=path, save_args={"index": False})}
        )
        config, credentials, load_versions, _ = catalog.to_config()
        assert config["cars"]["type"] == "kedro_datasets.pandas.csv_dataset.CSVDataset"
        assert config["cars"]["filepath"] == path
        rebuilt = DataCatalog.from_config(config, credentials, load_versions)
        rebuilt.save("cars", cars)
        pd.testing.assert_frame_equal(catalog.load("cars"), cars)


class TestKedroAbstractDatasetSubclass:
    def test_load_save_exists_release(self):
        dataset = KedroStyleDataset()
        catalog = DataCatalog({"k": dataset})
        assert catalog.exists("k") is False
        catalog.save("k", {"x": 1})
        assert catalog.exists("k") is True
        assert catalog.load("k") == {"x": 1}
        catalog.release("k")
        assert catalog.exists("k") is False
        assert dataset.calls == {"load": 1, "save": 1, "exists": 3, "release": 1}

    def test_registered_by_assignment_as_a_dataset(self):
        dataset = KedroStyleDataset(data=1)
        catalog = DataCatalog()
        catalog["k"] = dataset
        assert catalog["k"] is dataset

    def test_from_config(self):
        catalog = DataCatalog.from_config(
            {"k": {"type": f"{MODULE}.KedroStyleDataset", "data": 5, "label": "cfg"}}
        )
        assert isinstance(catalog["k"], KedroStyleDataset)
        assert catalog.load("k") == 5

    def test_filter_by_type(self):
        catalog = DataCatalog({"k": KedroStyleDataset(), "m": 1})
        assert catalog.filter(by_type=KedroStyleDataset) == ["k"]

    @pytest.mark.anyio
    async def test_async_faces_run_in_worker_threads(self):
        loop_thread = threading.get_ident()
        dataset = KedroStyleDataset()
        catalog = DataCatalog({"k": dataset})
        await catalog.asave("k", [1])
        assert await catalog.aload("k") == [1]
        assert await catalog.aexists("k") is True
        await catalog.arelease("k")
        assert dataset.calls["release"] == 1
        assert len(dataset.threads) == 2
        assert loop_thread not in dataset.threads


class TestCachedKedroDataset:
    def test_cache_semantics(self):
        wrapped = KedroStyleDataset(data=[1, 2])
        catalog = DataCatalog({"c": CachedDataset(wrapped)})
        assert catalog.load("c") == [1, 2]
        assert catalog.load("c") == [1, 2]
        assert wrapped.calls["load"] == 1
        catalog.save("c", [3])
        assert wrapped.calls["save"] == 1
        assert catalog.load("c") == [3]
        assert wrapped.calls["load"] == 1
        assert catalog.exists("c") is True
        assert wrapped.calls["exists"] == 0
        catalog.release("c")
        assert wrapped.calls["release"] == 1
        assert catalog.exists("c") is False

    def test_repr_and_init_config(self):
        cached = CachedDataset(KedroStyleDataset(label="x"))
        assert repr(cached) == (
            "dagloop.io.cached_dataset.CachedDataset("
            f"dataset=\"{MODULE}.KedroStyleDataset(label='x')\", "
            f"cache='{MODULE}.KedroStyleDataset()')"
        )
        assert cached._init_config() == {
            "type": "dagloop.io.cached_dataset.CachedDataset",
            "copy_mode": None,
            "dataset": {
                "type": f"{MODULE}.KedroStyleDataset",
                "data": None,
                "label": "x",
            },
        }

    def test_cached_kedro_dataset_from_config(self):
        cached = CachedDataset({"type": f"{MODULE}.KedroStyleDataset", "data": 7})
        assert cached.load() == 7
        assert cached.load() == 7
        assert cached._dataset.calls["load"] == 1

    @pytest.mark.anyio
    async def test_async_faces(self):
        loop_thread = threading.get_ident()
        wrapped = KedroStyleDataset(data="v")
        cached = CachedDataset(wrapped)
        assert await cached.aload() == "v"
        assert await cached.aload() == "v"
        assert wrapped.calls["load"] == 1
        assert wrapped.threads[0] != loop_thread


def versioned_config(path: str) -> dict[str, Any]:
    return {"cars": {"type": CSV_TYPE, "filepath": path, "versioned": True}}


class TestVersionedKedroDatasets:
    @pytest.fixture
    def saved_versions(self, tmp_path):
        path = str(tmp_path / "cars.csv")
        first = pd.DataFrame({"v": [1]})
        second = pd.DataFrame({"v": [2]})
        DataCatalog.from_config(versioned_config(path), save_version=V1).save(
            "cars", first
        )
        DataCatalog.from_config(versioned_config(path), save_version=V2).save(
            "cars", second
        )
        return path, first, second

    def test_versions_are_saved_in_version_folders(self, saved_versions, tmp_path):
        assert (tmp_path / "cars.csv" / V1 / "cars.csv").is_file()
        assert (tmp_path / "cars.csv" / V2 / "cars.csv").is_file()

    def test_newest_version_is_loaded_by_default(self, saved_versions):
        path, _, second = saved_versions
        catalog = DataCatalog.from_config(versioned_config(path))
        pd.testing.assert_frame_equal(catalog.load("cars"), second)

    def test_load_versions(self, saved_versions):
        path, first, _ = saved_versions
        catalog = DataCatalog.from_config(
            versioned_config(path), load_versions={"cars": V1}
        )
        pd.testing.assert_frame_equal(catalog.load("cars"), first)
        assert catalog.to_config()[2] == {"cars": V1}

    def test_load_with_version_argument(self, saved_versions):
        path, first, second = saved_versions
        catalog = DataCatalog.from_config(versioned_config(path))
        pd.testing.assert_frame_equal(catalog.load("cars", version=V1), first)
        pd.testing.assert_frame_equal(catalog.load("cars"), second)

    @pytest.mark.anyio
    async def test_aload_with_version_argument(self, saved_versions):
        path, first, second = saved_versions
        catalog = DataCatalog.from_config(versioned_config(path))
        pd.testing.assert_frame_equal(await catalog.aload("cars", version=V1), first)
        pd.testing.assert_frame_equal(await catalog.aload("cars"), second)

    def test_dataset_object_pins_catalog_versions(self, saved_versions):
        path, first, _ = saved_versions
        dataset = CSVDataset(filepath=path, version=Version(V1, V2))
        catalog = DataCatalog({"cars": dataset})
        assert catalog.to_config()[2:] == ({"cars": V1}, V2)
        pd.testing.assert_frame_equal(catalog.load("cars"), first)


# ------------------------------------------- what a short type means for an entry


ENTRIES: list[tuple[dict[str, Any], str]] = [
    # Entries dagloop's own classes honour: dagloop's (async, local).
    ({"type": "pandas.CSVDataset", "filepath": "cars.csv"}, "dagloop.io"),
    (
        {
            "type": "pandas.CSVDataset",
            "filepath": "file:///tmp/cars.csv",
            "load_args": {"sep": ";"},
            "metadata": {"owner": "me"},
        },
        "dagloop.io",
    ),
    (
        {"type": "pickle.PickleDataset", "filepath": "m.pkl", "versioned": True},
        "dagloop.io",
    ),
    ({"type": "json.JSONDataset", "filepath": "m.json"}, "dagloop.io"),
    ({"type": "text.TextDataset", "filepath": "m.txt"}, "dagloop.io"),
    # Entries written for kedro-datasets that dagloop's cannot honour: theirs.
    (
        {"type": "pandas.CSVDataset", "filepath": "s3://bucket/cars.csv"},
        "kedro_datasets",
    ),
    ({"type": "pandas.CSVDataset", "filepath": "memory://cars.csv"}, "kedro_datasets"),
    (
        {"type": "json.JSONDataset", "filepath": "https://example.com/a.json"},
        "kedro_datasets",
    ),
    (
        {
            "type": "pandas.CSVDataset",
            "filepath": "cars.csv",
            "fs_args": {"open_args_load": {}},
        },
        "kedro_datasets",
    ),
    (
        {
            "type": "pandas.CSVDataset",
            "filepath": "cars.csv",
            "credentials": {"key": "k"},
        },
        "kedro_datasets",
    ),
    (
        {"type": "pickle.PickleDataset", "filepath": "m.pkl", "backend": "pickle"},
        "kedro_datasets",
    ),
    # Full paths are taken as written.
    (
        {"type": "kedro_datasets.pandas.CSVDataset", "filepath": "cars.csv"},
        "kedro_datasets",
    ),
]


@pytest.mark.parametrize(("entry", "package"), ENTRIES)
def test_a_short_type_means_dagloops_class_unless_it_cannot_honour_the_entry(
    entry: dict[str, Any], package: str
) -> None:
    catalog = DataCatalog.from_config({"data": entry})
    assert type(catalog["data"]).__module__.startswith(package + ".")
    name = type(catalog["data"]).__name__
    assert name == entry["type"].rsplit(".", 1)[-1]


def test_filter_by_type_finds_what_each_entry_really_is(tmp_path: Any) -> None:
    catalog = DataCatalog.from_config(
        {
            "local": {"type": "pandas.CSVDataset", "filepath": str(tmp_path / "a.csv")},
            "remote": {"type": "pandas.CSVDataset", "filepath": "s3://b/a.csv"},
            "explicit": {"type": CSV_TYPE, "filepath": str(tmp_path / "b.csv")},
        }
    )
    import dagloop.io.pandas

    assert sorted(catalog.filter(by_type=CSVDataset)) == ["explicit", "remote"]
    assert catalog.filter(by_type=dagloop.io.pandas.CSVDataset) == ["local"]


def block_kedro_datasets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make kedro-datasets unimportable, as if not installed, for one test."""
    import sys

    from dagloop.io import core

    monkeypatch.setattr(core, "_MISSING_MODULES", {})  # nothing cached either way
    for module in [m for m in sys.modules if m.startswith("kedro_datasets")]:
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setitem(sys.modules, "kedro_datasets", None)


def test_an_entry_only_kedro_datasets_can_serve_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    from dagloop.io import DatasetError

    block_kedro_datasets(monkeypatch)
    catalog = DataCatalog.from_config(
        {"cars": {"type": "pandas.CSVDataset", "filepath": "gs://b/cars.csv"}}
    )
    with pytest.raises(DatasetError) as info:
        catalog["cars"]
    message = str(info.value)
    assert "dagloop's CSVDataset cannot serve this entry" in message
    assert "not gs:// paths" in message
    assert "pip install 'kedro-datasets[pandas-csvdataset]' gcsfs" in message
    assert "'cars'" in message


@pytest.mark.parametrize(
    ("entry", "hint"),
    [
        (
            {"type": "TextDataset", "filepath": "s3://b/notes.txt"},
            "pip install 'kedro-datasets[text-textdataset]' s3fs",
        ),
        (
            {"type": "json.JSONDataset", "filepath": "a.json", "fs_args": {}},
            "pip install 'kedro-datasets[json-jsondataset]'",
        ),
    ],
)
def test_the_install_hint_names_the_extra_and_the_filesystem(
    monkeypatch: pytest.MonkeyPatch, entry: dict[str, Any], hint: str
) -> None:

    from dagloop.io import DatasetError

    block_kedro_datasets(monkeypatch)
    with pytest.raises(DatasetError, match=re.escape(hint) + "$"):
        DataCatalog.from_config({"data": entry})["data"]
