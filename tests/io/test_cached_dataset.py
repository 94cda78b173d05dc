"""Tests for ``dagloop.io.cached_dataset``."""

from __future__ import annotations

import logging
import pickle
import threading
from pathlib import Path, PurePosixPath
from typing import Any

import anyio.lowlevel
import pytest

from dagloop.io import (
    AbstractDataset,
    AbstractVersionedDataset,
    CachedDataset,
    DatasetError,
    MemoryDataset,
    Version,
)

LOGGER = "dagloop.io.cached_dataset"
MODULE = __name__
CACHED = "dagloop.io.cached_dataset.CachedDataset"


class CountingDataset(AbstractDataset[Any, Any]):
    """An in-memory dataset counting how often each operation reaches it."""

    def __init__(self, data: Any = None, name: str = "source") -> None:
        self.data = data
        self.name = name
        self.calls = {"load": 0, "save": 0, "exists": 0, "release": 0}
        self.threads: list[int] = []

    def load(self) -> Any:
        self.calls["load"] += 1
        self.threads.append(threading.get_ident())
        return self.data

    def save(self, data: Any) -> None:
        self.calls["save"] += 1
        self.threads.append(threading.get_ident())
        self.data = data

    def _exists(self) -> bool:
        self.calls["exists"] += 1
        return self.data is not None

    def _release(self) -> None:
        self.calls["release"] += 1

    def _describe(self) -> dict[str, Any]:
        return {"name": self.name}


class AsyncCountingDataset(AbstractDataset[Any, Any]):
    """An async-native dataset counting its calls and recording their threads."""

    def __init__(self, data: Any = None) -> None:
        self.data = data
        self.calls = {"load": 0, "save": 0, "exists": 0}
        self.threads: list[int] = []

    async def _aload(self) -> Any:
        self.calls["load"] += 1
        self.threads.append(threading.get_ident())
        await anyio.lowlevel.checkpoint()
        return self.data

    async def _asave(self, data: Any) -> None:
        self.calls["save"] += 1
        self.threads.append(threading.get_ident())
        await anyio.lowlevel.checkpoint()
        self.data = data

    async def _aexists(self) -> bool:
        self.calls["exists"] += 1
        await anyio.lowlevel.checkpoint()
        return self.data is not None

    def _describe(self) -> dict[str, Any]:
        return {}


class FileVersionedDataset(AbstractVersionedDataset[str, str]):
    def __init__(self, filepath: str, version: Version | None = None) -> None:
        super().__init__(PurePosixPath(filepath), version)

    def load(self) -> str:
        return Path(self._get_load_path()).read_text()

    def save(self, data: str) -> None:
        path = Path(self._get_save_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data)

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath)}


class TestConstruction:
    def test_wraps_a_dataset_object(self):
        wrapped = CountingDataset()
        cached = CachedDataset(wrapped)
        assert cached._dataset is wrapped

    def test_builds_the_wrapped_dataset_from_config(self):
        cached = CachedDataset({"type": f"{MODULE}.CountingDataset", "data": [1]})
        assert isinstance(cached._dataset, CountingDataset)
        assert cached.load() == [1]

    def test_builds_with_short_type_names(self):
        cached = CachedDataset({"type": "MemoryDataset", "data": 5})
        assert isinstance(cached._dataset, MemoryDataset)
        assert cached.load() == 5

    def test_version_makes_the_wrapped_config_versioned(self):
        cached = CachedDataset(
            {"type": f"{MODULE}.FileVersionedDataset", "filepath": "f.txt"},
            version=Version("2020-01-01T00.00.00.000Z", "2021-01-01T00.00.00.000Z"),
        )
        assert cached._dataset._version == Version(
            "2020-01-01T00.00.00.000Z", "2021-01-01T00.00.00.000Z"
        )

    def test_unpinned_version_gets_a_save_timestamp(self):
        cached = CachedDataset(
            {"type": f"{MODULE}.FileVersionedDataset", "filepath": "f.txt"},
            version=Version(None, None),
        )
        version = cached._dataset._version
        assert version.load is None
        assert isinstance(version.save, str)

    def test_versioned_inside_wrapped_config_is_rejected(self):
        with pytest.raises(ValueError) as exc_info:
            CachedDataset(
                {
                    "type": f"{MODULE}.FileVersionedDataset",
                    "filepath": "f.txt",
                    "versioned": True,
                }
            )
        assert str(exc_info.value) == (
            "Cached datasets should specify that they are versioned in the "
            "'CachedDataset', not in the wrapped dataset."
        )

    @pytest.mark.parametrize("bad", [42, "MemoryDataset", ["a"], None])
    def test_other_argument_types_are_rejected(self, bad):
        with pytest.raises(ValueError) as exc_info:
            CachedDataset(bad)
        assert str(exc_info.value) == (
            "The argument type of 'dataset' should be either a dict/YAML "
            "representation of the dataset, or the actual dataset object."
        )

    def test_bad_wrapped_config_raises_dataset_error(self):
        with pytest.raises(DatasetError, match="parsing config for dataset '_cached'"):
            CachedDataset({"type": "NoSuchDataset"})

    def test_flags(self):
        cached = CachedDataset(CountingDataset(), metadata={"m": 1})
        assert CachedDataset._SINGLE_PROCESS is True
        assert cached._EPHEMERAL is True
        assert cached.metadata == {"m": 1}

    def test_copy_mode_is_used_by_the_cache(self):
        data = {"a": [1]}
        cached = CachedDataset(CountingDataset(), copy_mode="assign")
        cached.save(data)
        assert cached.load() is data


class TestLoadSaveExistsRelease:
    def test_first_load_reads_the_wrapped_dataset_then_the_cache(self):
        wrapped = CountingDataset(data={"a": 1})
        cached = CachedDataset(wrapped)
        assert cached.load() == {"a": 1}
        assert cached.load() == {"a": 1}
        assert wrapped.calls["load"] == 1

    def test_cache_copies_data(self):
        wrapped = CountingDataset(data={"a": [1]})
        cached = CachedDataset(wrapped)
        cached.load()
        first = cached.load()
        first["a"].append(2)
        assert cached.load() == {"a": [1]}

    def test_save_writes_through_and_fills_the_cache(self):
        wrapped = CountingDataset()
        cached = CachedDataset(wrapped)
        cached.save([1, 2])
        assert wrapped.data == [1, 2]
        assert wrapped.calls["save"] == 1
        assert cached.load() == [1, 2]
        assert wrapped.calls["load"] == 0

    def test_save_none_is_rejected(self):
        wrapped = CountingDataset()
        with pytest.raises(
            DatasetError, match=r"^Saving 'None' to a 'Dataset' is not allowed$"
        ):
            CachedDataset(wrapped).save(None)
        assert wrapped.calls["save"] == 0

    def test_exists_uses_the_cache_first(self):
        wrapped = CountingDataset(data=1)
        cached = CachedDataset(wrapped)
        assert cached.exists() is True
        assert wrapped.calls["exists"] == 1
        cached.load()
        assert cached.exists() is True
        assert wrapped.calls["exists"] == 1

    def test_exists_false_when_neither_has_data(self):
        assert CachedDataset(CountingDataset()).exists() is False

    def test_release_releases_cache_and_wrapped_dataset(self):
        wrapped = CountingDataset(data=1)
        cached = CachedDataset(wrapped)
        cached.load()
        cached.release()
        assert wrapped.calls["release"] == 1
        cached.load()
        assert wrapped.calls["load"] == 2

    def test_wrapped_errors_surface_as_dataset_errors(self):
        class Broken(CountingDataset):
            def load(self) -> Any:
                raise OSError("unreadable")

        cached = CachedDataset(Broken())
        with pytest.raises(DatasetError, match="unreadable"):
            cached.load()
        assert cached._cache.exists() is False


class TestPickling:
    def test_pickling_clears_the_cache_with_a_warning(self, caplog):
        wrapped = CountingDataset(data=[1])
        cached = CachedDataset(wrapped)
        cached.load()
        expected = f"{cached!s}: clearing cache to pickle."
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            pickle.dumps(cached)
        assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
            (LOGGER, logging.WARNING, expected)
        ]
        assert cached._cache.exists() is False
        assert cached.load() == [1]
        assert wrapped.calls["load"] == 2

    def test_unpickled_dataset_reloads_from_the_wrapped_dataset(self, caplog):
        cached = CachedDataset(CountingDataset(data=[1]))
        cached.load()
        with caplog.at_level(logging.WARNING, logger=LOGGER):
            restored = pickle.loads(pickle.dumps(cached))
        assert restored._cache.exists() is False
        assert restored.load() == [1]
        assert restored._dataset.calls["load"] == 2


class TestRepr:
    def test_repr_with_empty_cache(self):
        cached = CachedDataset(CountingDataset(name="x"))
        assert repr(cached) == (
            f"{CACHED}(dataset=\"{MODULE}.CountingDataset(name='x')\", "
            f"cache='{MODULE}.CountingDataset()')"
        )

    def test_repr_with_cached_data(self):
        cached = CachedDataset(CountingDataset(data=3, name="x"))
        cached.load()
        assert repr(cached) == (
            f"{CACHED}(dataset=\"{MODULE}.CountingDataset(name='x')\", "
            f"cache=\"{MODULE}.CountingDataset(data='<int>')\")"
        )

    def test_describe(self):
        cached = CachedDataset(CountingDataset(name="x"))
        assert cached._describe() == {"dataset": {"name": "x"}, "cache": {"data": None}}


class TestAsyncFaces:
    @pytest.mark.anyio
    async def test_sync_wrapped_dataset_is_loaded_in_a_worker_thread(self):
        loop_thread = threading.get_ident()
        wrapped = CountingDataset(data="payload")
        cached = CachedDataset(wrapped)
        assert await cached.aload() == "payload"
        assert await cached.aload() == "payload"
        assert wrapped.calls["load"] == 1
        assert wrapped.threads[0] != loop_thread

    @pytest.mark.anyio
    async def test_async_wrapped_dataset_uses_its_async_path(self):
        loop_thread = threading.get_ident()
        wrapped = AsyncCountingDataset(data="payload")
        cached = CachedDataset(wrapped)
        assert await cached.aload() == "payload"
        assert await cached.aload() == "payload"
        assert wrapped.calls["load"] == 1
        assert wrapped.threads == [loop_thread]

    @pytest.mark.anyio
    async def test_asave_writes_through_and_fills_the_cache(self):
        loop_thread = threading.get_ident()
        wrapped = AsyncCountingDataset()
        cached = CachedDataset(wrapped)
        await cached.asave({"k": 1})
        assert wrapped.data == {"k": 1}
        assert wrapped.threads == [loop_thread]
        assert await cached.aload() == {"k": 1}
        assert wrapped.calls["load"] == 0

    @pytest.mark.anyio
    async def test_asave_none_is_rejected(self):
        wrapped = AsyncCountingDataset()
        with pytest.raises(
            DatasetError, match=r"^Saving 'None' to a 'Dataset' is not allowed$"
        ):
            await CachedDataset(wrapped).asave(None)
        assert wrapped.calls["save"] == 0

    @pytest.mark.anyio
    async def test_aexists_uses_the_cache_first(self):
        wrapped = AsyncCountingDataset()
        cached = CachedDataset(wrapped)
        assert await cached.aexists() is False
        assert wrapped.calls["exists"] == 1
        await cached.asave(1)
        assert await cached.aexists() is True
        assert wrapped.calls["exists"] == 1

    @pytest.mark.anyio
    async def test_arelease_releases_both(self):
        wrapped = CountingDataset(data=1)
        cached = CachedDataset(wrapped)
        await cached.aload()
        await cached.arelease()
        assert wrapped.calls["release"] == 1
        await cached.aload()
        assert wrapped.calls["load"] == 2

    def test_sync_faces_with_an_async_wrapped_dataset(self):
        wrapped = AsyncCountingDataset()
        cached = CachedDataset(wrapped)
        cached.save("sync")
        assert wrapped.data == "sync"
        assert cached.load() == "sync"
        cached.release()
        assert cached.load() == "sync"
        assert wrapped.calls == {"load": 1, "save": 1, "exists": 0}
