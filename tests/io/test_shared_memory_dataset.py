"""Tests for ``dagloop.io.shared_memory_dataset``."""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from multiprocessing.managers import BaseProxy, SyncManager
from typing import Any

import pytest

from dagloop.io import DatasetError, MemoryDataset, SharedMemoryDataset

REPR = "dagloop.io.shared_memory_dataset.SharedMemoryDataset()"
NOT_SAVED = "Data for MemoryDataset has not been saved yet."
NONE_SAVE = "Saving 'None' to a 'Dataset' is not allowed"


class MemoryManager(SyncManager):
    """A manager serving ``MemoryDataset`` objects, as ParallelRunner's does."""


MemoryManager.register("MemoryDataset", MemoryDataset)


class RecordingSharedMemoryDataset(SharedMemoryDataset):
    def __init__(self, manager: SyncManager | None = None) -> None:
        super().__init__(manager)
        self.threads: list[int] = []

    def load(self) -> Any:
        self.threads.append(threading.get_ident())
        return super().load()

    def save(self, data: Any) -> None:
        self.threads.append(threading.get_ident())
        super().save(data)


@pytest.fixture(scope="module")
def manager():
    # One manager per module: each dataset gets its own proxied MemoryDataset.
    # forkserver: the manager process is not forked from this multi-threaded one.
    started = MemoryManager(ctx=multiprocessing.get_context("forkserver"))
    started.start()
    yield started
    started.shutdown()


class TestWithoutManager:
    def test_behaves_like_a_memory_store(self):
        dataset = SharedMemoryDataset()
        assert dataset.shared_memory_dataset is None
        assert dataset.exists() is False
        dataset.save({"a": [1]})
        assert dataset.exists() is True
        loaded = dataset.load()
        assert loaded == {"a": [1]}
        loaded["a"].append(2)
        assert dataset.load() == {"a": [1]}
        dataset.release()
        assert dataset.exists() is False

    def test_empty_load_is_an_error(self):
        with pytest.raises(DatasetError) as exc_info:
            SharedMemoryDataset().load()
        assert str(exc_info.value) == NOT_SAVED

    def test_saving_none_is_rejected(self):
        with pytest.raises(DatasetError) as exc_info:
            SharedMemoryDataset().save(None)
        assert str(exc_info.value) == NONE_SAVE

    def test_data_survives_pickling(self):
        dataset = SharedMemoryDataset()
        dataset.save([1, 2, 3])
        restored = pickle.loads(pickle.dumps(dataset))
        assert restored.load() == [1, 2, 3]
        assert restored.shared_memory_dataset is None

    def test_empty_dataset_survives_pickling_empty(self):
        restored = pickle.loads(pickle.dumps(SharedMemoryDataset()))
        assert restored.exists() is False
        with pytest.raises(DatasetError, match=NOT_SAVED):
            restored.load()

    def test_describe_and_repr(self):
        dataset = SharedMemoryDataset()
        assert dataset._describe() == {}
        assert repr(dataset) == REPR
        dataset.save(1)
        assert repr(dataset) == REPR

    def test_ephemeral(self):
        assert SharedMemoryDataset()._EPHEMERAL is True

    def test_unknown_attributes_raise_attribute_error(self):
        dataset = SharedMemoryDataset()
        with pytest.raises(AttributeError):
            dataset.no_such_attribute  # noqa: B018
        with pytest.raises(AttributeError):
            dataset._no_such_private_attribute  # noqa: B018

    @pytest.mark.anyio
    async def test_async_faces_run_inline(self):
        loop_thread = threading.get_ident()
        dataset = RecordingSharedMemoryDataset()
        await dataset.asave("x")
        assert await dataset.aload() == "x"
        assert await dataset.aexists() is True
        await dataset.arelease()
        assert await dataset.aexists() is False
        assert dataset.threads == [loop_thread, loop_thread]


class TestWithManager:
    def test_data_lives_in_the_manager(self, manager):
        dataset = SharedMemoryDataset(manager)
        assert isinstance(dataset.shared_memory_dataset, BaseProxy)
        dataset.save({"a": 1})
        assert dataset.shared_memory_dataset.load() == {"a": 1}
        assert dataset._local.exists() is False
        assert dataset.load() == {"a": 1}
        assert dataset.exists() is True

    def test_set_manager_moves_later_saves_to_the_manager(self, manager):
        dataset = SharedMemoryDataset()
        dataset.set_manager(manager)
        dataset.save(7)
        assert dataset.shared_memory_dataset.load() == 7
        assert dataset._local.exists() is False

    def test_release_and_empty_load(self, manager):
        dataset = SharedMemoryDataset(manager)
        assert dataset.exists() is False
        with pytest.raises(DatasetError) as exc_info:
            dataset.load()
        assert str(exc_info.value) == NOT_SAVED
        dataset.save(1)
        dataset.release()
        assert dataset.exists() is False
        assert dataset.shared_memory_dataset.exists() is False

    def test_each_dataset_has_its_own_proxy(self, manager):
        first, second = SharedMemoryDataset(manager), SharedMemoryDataset(manager)
        first.save("one")
        second.save("two")
        assert (first.load(), second.load()) == ("one", "two")

    def test_saving_none_is_rejected(self, manager):
        dataset = SharedMemoryDataset(manager)
        with pytest.raises(DatasetError, match=f"^{NONE_SAVE}$"):
            dataset.save(None)
        assert dataset.exists() is False

    @pytest.mark.parametrize("data", [threading.Lock(), lambda: 1])
    def test_unpicklable_data_cannot_be_serialised(self, manager, data):
        dataset = SharedMemoryDataset(manager)
        with pytest.raises(DatasetError) as exc_info:
            dataset.save(data)
        assert str(exc_info.value) == (
            f"{data.__class__!s} cannot be serialised. ParallelRunner implicit memory "
            "datasets can only be used with serialisable data"
        )
        assert exc_info.value.__cause__ is not None
        dataset.save("still usable")
        assert dataset.load() == "still usable"

    def test_describe(self, manager):
        dataset = SharedMemoryDataset(manager)
        assert dataset._describe() == {}
        assert repr(dataset) == REPR

    def test_unknown_attributes_fall_through_to_the_proxy(self, manager):
        dataset = SharedMemoryDataset(manager)
        with pytest.raises(AttributeError, match="no_such_attribute"):
            dataset.no_such_attribute  # noqa: B018

    @pytest.mark.anyio
    async def test_async_faces_use_a_worker_thread(self, manager):
        loop_thread = threading.get_ident()
        dataset = RecordingSharedMemoryDataset(manager)
        await dataset.asave([1])
        assert await dataset.aload() == [1]
        assert await dataset.aexists() is True
        await dataset.arelease()
        assert await dataset.aexists() is False
        assert len(dataset.threads) == 2
        assert loop_thread not in dataset.threads
