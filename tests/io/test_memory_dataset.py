"""Tests for ``dagloop.io.memory_dataset``."""

from __future__ import annotations

import pickle
import threading
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dagloop.io import DatasetError, MemoryDataset
from dagloop.io.memory_dataset import (
    _copy_with_mode,
    _infer_copy_mode,
    _is_memory_dataset,
)

REPR_PREFIX = "dagloop.io.memory_dataset.MemoryDataset"


class DataFrame:
    """Stands in for a Spark or Polars frame: any class named ``DataFrame``."""

    def __init__(self, rows: list[int]) -> None:
        self.rows = rows


class Node:
    def __init__(self, children: list[Any]) -> None:
        self.children = children


class RecordingMemoryDataset(MemoryDataset):
    """Records the thread of every sync call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.threads: list[int] = []

    def load(self) -> Any:
        self.threads.append(threading.get_ident())
        return super().load()

    def save(self, data: Any) -> None:
        self.threads.append(threading.get_ident())
        super().save(data)


class TestInferCopyMode:
    def test_pandas_dataframe_is_copied(self):
        assert _infer_copy_mode(pd.DataFrame({"a": [1]})) == "copy"

    def test_numpy_array_is_copied(self):
        assert _infer_copy_mode(np.arange(3)) == "copy"

    def test_other_dataframe_classes_are_assigned(self):
        assert _infer_copy_mode(DataFrame([1])) == "assign"

    @pytest.mark.parametrize(
        "data", [{"a": [1]}, [1, 2], "text", 3, pd.Series([1, 2]), Node([])]
    )
    def test_everything_else_is_deep_copied(self, data):
        assert _infer_copy_mode(data) == "deepcopy"


class TestCopyWithMode:
    def test_deepcopy(self):
        data = {"a": [1]}
        copied = _copy_with_mode(data, "deepcopy")
        assert copied == data
        assert copied["a"] is not data["a"]

    def test_copy_is_shallow(self):
        inner = [1]
        data = [inner]
        copied = _copy_with_mode(data, "copy")
        assert copied is not data
        assert copied[0] is inner

    def test_assign_is_the_same_object(self):
        data = {"a": 1}
        assert _copy_with_mode(data, "assign") is data

    def test_invalid_mode(self):
        with pytest.raises(DatasetError) as exc_info:
            _copy_with_mode(1, "bogus")  # type: ignore[arg-type]
        assert str(exc_info.value) == (
            "Invalid copy mode: bogus. Possible values are: deepcopy, copy, assign."
        )


class TestMemoryDatasetCopying:
    def test_scalars_are_their_own_copy(self):
        dataset = MemoryDataset(data="text")
        assert dataset.load() is dataset._data

    def test_an_invalid_mode_is_refused_for_scalars_too(self):
        # Scalars skip the copy; an invalid mode must still be reported.
        with pytest.raises(DatasetError, match="Invalid copy mode: bogus"):
            MemoryDataset(data=1, copy_mode="bogus")  # type: ignore[arg-type]

    def test_copy_mode_copy_on_a_scalar_fails_as_before(self):
        dataset = MemoryDataset(copy_mode="copy")
        with pytest.raises(DatasetError, match="has no attribute 'copy'"):
            dataset.save(1)

    def test_inferred_deepcopy_on_save_and_load(self):
        data = {"a": [1, 2]}
        dataset = MemoryDataset(data=data)
        data["a"].append(3)
        loaded = dataset.load()
        assert loaded == {"a": [1, 2]}
        loaded["a"].append(4)
        assert dataset.load() == {"a": [1, 2]}

    def test_inferred_copy_for_pandas(self):
        frame = pd.DataFrame({"a": [1, 2]})
        dataset = MemoryDataset()
        dataset.save(frame)
        loaded = dataset.load()
        assert loaded is not frame
        pd.testing.assert_frame_equal(loaded, frame)
        loaded.loc[0, "a"] = 100
        assert dataset.load().loc[0, "a"] == 1

    def test_inferred_copy_for_numpy(self):
        array = np.array([1, 2, 3])
        dataset = MemoryDataset(data=array)
        array[0] = 100
        loaded = dataset.load()
        np.testing.assert_array_equal(loaded, [1, 2, 3])
        loaded[1] = 200
        np.testing.assert_array_equal(dataset.load(), [1, 2, 3])

    def test_inferred_assign_for_classes_named_dataframe(self):
        frame = DataFrame([1, 2])
        dataset = MemoryDataset(data=frame)
        assert dataset.load() is frame
        assert dataset.load() is dataset.load()

    @pytest.mark.parametrize(
        ("copy_mode", "same_outer", "same_inner"),
        [("assign", True, True), ("copy", False, True), ("deepcopy", False, False)],
    )
    def test_explicit_modes(self, copy_mode, same_outer, same_inner):
        inner = [1]
        data = [inner]
        dataset = MemoryDataset(copy_mode=copy_mode)
        dataset.save(data)
        loaded = dataset.load()
        assert (loaded is data) is same_outer
        assert (loaded[0] is inner) is same_inner

    def test_explicit_mode_overrides_inference(self):
        frame = pd.DataFrame({"a": [1]})
        assert MemoryDataset(data=frame, copy_mode="assign").load() is frame
        other = DataFrame([1])
        loaded = MemoryDataset(data=other, copy_mode="deepcopy").load()
        assert loaded is not other
        assert loaded.rows == [1]

    def test_invalid_copy_mode_on_save(self):
        dataset = MemoryDataset(copy_mode="bogus")  # type: ignore[arg-type]
        with pytest.raises(DatasetError) as exc_info:
            dataset.save(1)
        assert str(exc_info.value) == (
            "Invalid copy mode: bogus. Possible values are: deepcopy, copy, assign."
        )

    def test_invalid_copy_mode_with_initial_data(self):
        with pytest.raises(DatasetError, match=r"^Invalid copy mode: bogus"):
            MemoryDataset(data=1, copy_mode="bogus")  # type: ignore[arg-type]


class TestMemoryDataset:
    def test_empty_load_is_an_error(self):
        with pytest.raises(DatasetError) as exc_info:
            MemoryDataset().load()
        assert str(exc_info.value) == "Data for MemoryDataset has not been saved yet."

    def test_none_as_initial_data_is_legal(self):
        dataset = MemoryDataset(None)
        assert dataset.load() is None
        assert dataset.exists() is True

    def test_saving_none_is_not(self):
        dataset = MemoryDataset(1)
        with pytest.raises(
            DatasetError, match=r"^Saving 'None' to a 'Dataset' is not allowed$"
        ):
            dataset.save(None)
        assert dataset.load() == 1

    def test_exists_and_release(self):
        dataset = MemoryDataset()
        assert dataset.exists() is False
        dataset.save([1])
        assert dataset.exists() is True
        dataset.release()
        assert dataset.exists() is False
        with pytest.raises(DatasetError, match="has not been saved yet"):
            dataset.load()

    def test_save_replaces_data(self):
        dataset = MemoryDataset(1)
        dataset.save("two")
        assert dataset.load() == "two"

    def test_falsy_data(self):
        for value in (0, "", [], False):
            assert MemoryDataset(value).load() == value

    def test_metadata_is_kept_verbatim(self):
        metadata = {"owner": "me", "tags": ["a"]}
        dataset = MemoryDataset(metadata=metadata)
        assert dataset.metadata is metadata
        assert MemoryDataset().metadata is None

    def test_ephemeral_instance(self):
        assert MemoryDataset()._EPHEMERAL is True

    @pytest.mark.parametrize(
        ("data", "expected"),
        [
            (1, f"{REPR_PREFIX}(data='<int>')"),
            ({"a": 1}, f"{REPR_PREFIX}(data='<dict>')"),
            (None, f"{REPR_PREFIX}(data='<NoneType>')"),
            (pd.DataFrame(), f"{REPR_PREFIX}(data='<DataFrame>')"),
        ],
    )
    def test_repr_with_data(self, data, expected):
        assert repr(MemoryDataset(data)) == expected
        assert str(MemoryDataset(data)) == expected

    def test_repr_when_empty(self):
        assert repr(MemoryDataset()) == f"{REPR_PREFIX}()"

    def test_repr_after_release(self):
        dataset = MemoryDataset(1)
        dataset.release()
        assert repr(dataset) == f"{REPR_PREFIX}()"

    def test_pickle_round_trip_keeps_data(self):
        restored = pickle.loads(pickle.dumps(MemoryDataset({"a": [1]})))
        assert restored.load() == {"a": [1]}

    def test_pickle_round_trip_keeps_an_empty_dataset_empty(self):
        restored = pickle.loads(pickle.dumps(MemoryDataset()))
        assert restored.exists() is False
        with pytest.raises(DatasetError, match="has not been saved yet"):
            restored.load()

    def test_init_args(self):
        assert MemoryDataset([1], copy_mode="copy")._init_args == {
            "data": [1],
            "copy_mode": "copy",
            "metadata": None,
        }


class TestIsMemoryDataset:
    def test_instances(self):
        assert _is_memory_dataset(MemoryDataset()) is True
        assert _is_memory_dataset(RecordingMemoryDataset()) is True

    @pytest.mark.parametrize(
        "type_name",
        [
            "MemoryDataset",
            "dagloop.io.memory_dataset.MemoryDataset",
            "kedro.io.memory_dataset.MemoryDataset",
        ],
    )
    def test_type_strings(self, type_name):
        assert _is_memory_dataset(type_name) is True

    @pytest.mark.parametrize(
        "other",
        ["CachedDataset", "pandas.CSVDataset", "", 1, None, MemoryDataset],
    )
    def test_other_values(self, other):
        assert _is_memory_dataset(other) is False


class TestAsyncFaces:
    @pytest.mark.anyio
    async def test_async_faces(self):
        dataset = MemoryDataset()
        assert await dataset.aexists() is False
        await dataset.asave({"a": [1]})
        loaded = await dataset.aload()
        assert loaded == {"a": [1]}
        assert await dataset.aexists() is True
        await dataset.arelease()
        assert await dataset.aexists() is False

    @pytest.mark.anyio
    async def test_in_memory_io_runs_inline_on_the_loop(self):
        loop_thread = threading.get_ident()
        dataset = RecordingMemoryDataset()
        await dataset.asave(1)
        assert await dataset.aload() == 1
        assert dataset.threads == [loop_thread, loop_thread]

    @pytest.mark.anyio
    async def test_async_errors_match_sync_ones(self):
        dataset = MemoryDataset()
        with pytest.raises(
            DatasetError, match=r"^Data for MemoryDataset has not been saved yet.$"
        ):
            await dataset.aload()
        with pytest.raises(
            DatasetError, match=r"^Saving 'None' to a 'Dataset' is not allowed$"
        ):
            await dataset.asave(None)
