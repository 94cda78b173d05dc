"""The local file datasets: round trips, args, catalog types, versioning, atomic saves."""

from __future__ import annotations

import errno
import json
import os
import pickle
import subprocess
import sys
import threading
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import aiofiles
import aiofiles.os
import anyio
import anyio.lowlevel
import anyio.to_thread
import pandas as pd
import pytest

import dagloop.io.pandas
from dagloop.io import (
    CSVDataset,
    DataCatalog,
    DatasetError,
    JSONDataset,
    PickleDataset,
    TextDataset,
    Version,
    VersionNotFoundError,
    _files,
    csv_dataset,
    json_dataset,
    pickle_dataset,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from pathlib import Path

FRAME = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})

#: (dataset class, file name, sample data) for the tests every dataset passes.
CASES = [
    pytest.param(TextDataset, "notes.txt", "héllo\r\nwörld\n", id="text"),
    pytest.param(
        JSONDataset, "config.json", {"a": [1, 2.5, None], "b": "é"}, id="json"
    ),
    pytest.param(
        PickleDataset, "model.pkl", {"set": {1, 2}, "t": (1, "a")}, id="pickle"
    ),
    pytest.param(CSVDataset, "table.csv", FRAME, id="csv"),
]


def assert_same(actual: Any, expected: Any) -> None:
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(actual, expected)
    else:
        assert actual == expected


def other_data(data: Any) -> Any:
    """Data of the same kind as ``data`` but different."""
    if isinstance(data, pd.DataFrame):
        return pd.DataFrame({"a": [9], "b": ["z"]})
    return "other" if isinstance(data, str) else {"other": True}


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize(("cls", "name", "data"), CASES)
def test_sync_round_trip(tmp_path: Path, cls: type[Any], name: str, data: Any) -> None:
    dataset = cls(tmp_path / "sub" / "dir" / name)
    assert not dataset.exists()
    dataset.save(data)
    assert dataset.exists()
    assert_same(dataset.load(), data)
    dataset.save(other_data(data))  # overwrites in place
    assert_same(dataset.load(), other_data(data))
    assert os.listdir(tmp_path / "sub" / "dir") == [name]


@pytest.mark.anyio
@pytest.mark.parametrize(("cls", "name", "data"), CASES)
async def test_async_round_trip(
    tmp_path: Path, cls: type[Any], name: str, data: Any
) -> None:
    dataset = cls(str(tmp_path / name))
    assert not await dataset.aexists()
    await dataset.asave(data)
    assert await dataset.aexists()
    assert_same(await dataset.aload(), data)


@pytest.mark.anyio
async def test_sync_face_works_inside_a_running_loop(tmp_path: Path) -> None:
    """A sync ``load`` called from async code runs on a helper loop, not this one."""
    dataset = JSONDataset(tmp_path / "x.json")
    dataset.save({"a": 1})
    assert dataset.load() == {"a": 1}


@pytest.mark.anyio
async def test_only_large_payloads_are_coded_in_a_thread() -> None:
    small, large = b"x", b"x" * _files.INLINE_CODEC_BYTES
    for payload, in_loop_thread in ((small, True), (large, False)):
        thread, _ = await _files.offload(_thread_and_len, payload, size=len(payload))
        assert (thread == threading.get_ident()) is in_loop_thread
    thread, _ = await _files.offload(_thread_and_len, small)  # size unknown
    assert thread != threading.get_ident()


def _thread_and_len(payload: bytes) -> tuple[int, int]:
    return threading.get_ident(), len(payload)


@pytest.mark.anyio
async def test_large_payloads_round_trip(tmp_path: Path) -> None:
    text = "λ" * (_files.INLINE_CODEC_BYTES * 2)
    data = {"items": list(range(_files.INLINE_CODEC_BYTES))}
    for dataset, value in (
        (TextDataset(tmp_path / "big.txt"), text),
        (JSONDataset(tmp_path / "big.json"), data),
        (PickleDataset(tmp_path / "big.pkl"), data),
    ):
        await dataset.asave(value)
        assert await dataset.aload() == value


def test_file_url_is_a_local_path(tmp_path: Path) -> None:
    dataset = TextDataset(f"file://{tmp_path}/a.txt")
    dataset.save("a")
    assert (tmp_path / "a.txt").read_text() == "a"


@pytest.mark.parametrize(
    ("cls", "kedro_type"),
    [
        (CSVDataset, "kedro_datasets.pandas.CSVDataset"),
        (JSONDataset, "kedro_datasets.json.JSONDataset"),
        (TextDataset, "kedro_datasets.text.TextDataset"),
        (PickleDataset, "kedro_datasets.pickle.PickleDataset"),
    ],
)
@pytest.mark.parametrize("url", ["s3://bucket/data/x", "https://example.com/x"])
def test_remote_paths_are_rejected(cls: type[Any], kedro_type: str, url: str) -> None:
    with pytest.raises(DatasetError, match="local-only") as info:
        cls(url)
    assert url in str(info.value)
    assert kedro_type in str(info.value)


def test_repr_and_metadata() -> None:
    dataset = CSVDataset("data/cars.csv", load_args={"sep": ";"}, metadata={"k": 1})
    assert repr(dataset) == (
        "dagloop.io.csv_dataset.CSVDataset(filepath=PurePosixPath('data/cars.csv'), "
        "protocol='file', load_args={'sep': ';'}, save_args={'index': False})"
    )
    assert dataset.metadata == {"k": 1}


# ------------------------------------------------------------ load/save args


def test_text_encoding_args(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    TextDataset(path, save_args={"encoding": "latin-1"}).save("é")
    assert path.read_bytes() == b"\xe9"
    assert TextDataset(path, load_args={"encoding": "latin-1"}).load() == "é"
    with pytest.raises(DatasetError, match="Failed while loading"):
        TextDataset(path).load()  # not UTF-8
    assert TextDataset(path, load_args={"errors": "replace"}).load() == "\ufffd"


def test_text_rejects_unknown_args(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"accepts only .*\['mode'\]"):
        TextDataset(tmp_path / "a.txt", save_args={"mode": "a"})


def test_json_defaults_to_two_space_indent(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    JSONDataset(path).save({"b": [1], "a": 2})
    assert path.read_text() == '{\n  "b": [\n    1\n  ],\n  "a": 2\n}'


def test_json_args(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    dataset = JSONDataset(
        path,
        load_args={"parse_float": Decimal},
        save_args={"indent": None, "sort_keys": True},
    )
    dataset.save({"b": 1.5, "a": 2})
    assert path.read_text() == '{"a": 2, "b": 1.5}'
    assert dataset.load() == {"a": 2, "b": Decimal("1.5")}


def test_pickle_args(tmp_path: Path) -> None:
    path = tmp_path / "a.pkl"
    PickleDataset(path, save_args={"protocol": 2}).save([1])
    assert path.read_bytes()[:2] == b"\x80\x02"
    with pytest.raises(DatasetError, match="invalid keyword argument"):
        PickleDataset(path, load_args={"bogus": 1}).load()


def test_csv_defaults_match_kedro_datasets(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    CSVDataset(path).save(FRAME)
    assert path.read_text() == "a,b\n1,x\n2,y\n"


def test_csv_args(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    saver = CSVDataset(
        path, save_args={"sep": ";", "index": True, "encoding": "utf-16"}
    )
    saver.save(FRAME)
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")  # UTF-16 BOM
    loader = CSVDataset(
        path, load_args={"sep": ";", "index_col": 0, "encoding": "utf-16"}
    )
    pd.testing.assert_frame_equal(loader.load(), FRAME)


def test_csv_compression_follows_the_file_name(tmp_path: Path) -> None:
    gzipped = CSVDataset(tmp_path / "a.csv.gz")
    gzipped.save(FRAME)
    assert (tmp_path / "a.csv.gz").read_bytes()[:2] == b"\x1f\x8b"
    pd.testing.assert_frame_equal(gzipped.load(), FRAME)
    plain = tmp_path / "b.csv.gz"
    CSVDataset(plain, save_args={"compression": None}).save(FRAME)
    assert plain.read_text() == "a,b\n1,x\n2,y\n"
    explicit = CSVDataset(tmp_path / "c.data", save_args={"compression": "bz2"})
    explicit.save(FRAME)
    loaded = CSVDataset(tmp_path / "c.data", load_args={"compression": "bz2"}).load()
    pd.testing.assert_frame_equal(loaded, FRAME)


def test_csv_does_not_import_pandas() -> None:
    code = (
        "import sys\n"
        "from dagloop.io import CSVDataset\n"
        "import dagloop.io.pandas\n"
        "CSVDataset('output.csv')\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
    )
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)


@pytest.mark.anyio
async def test_csv_without_pandas_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.csv"
    path.write_text("a\n1\n")
    dataset = CSVDataset(path)
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    hint = r"pip install 'dagloop\[pandas\]'"
    with pytest.raises(DatasetError, match=hint):
        await dataset.aload()
    with pytest.raises(DatasetError, match=hint):
        await dataset.asave(FRAME)
    assert path.read_text() == "a\n1\n"


def test_alias_modules_do_not_shadow_the_standard_library() -> None:
    assert json_dataset.json is sys.modules["json"]
    assert json_dataset.json.dumps is json.dumps
    assert pickle_dataset.pickle is sys.modules["pickle"]
    assert pickle_dataset.pickle.dumps is pickle.dumps
    assert csv_dataset.io is sys.modules["io"]
    assert dagloop.io.pandas is not pd
    assert pd.DataFrame is sys.modules["pandas"].DataFrame


# ---------------------------------------------------------------- the catalog


@pytest.mark.parametrize(
    ("type_name", "cls"),
    [
        ("pandas.CSVDataset", CSVDataset),
        ("CSVDataset", CSVDataset),
        ("json.JSONDataset", JSONDataset),
        ("JSONDataset", JSONDataset),
        ("text.TextDataset", TextDataset),
        ("TextDataset", TextDataset),
        ("pickle.PickleDataset", PickleDataset),
        ("PickleDataset", PickleDataset),
        ("dagloop.io.pandas.CSVDataset", CSVDataset),
    ],
)
def test_catalog_short_types_resolve_to_dagloop(
    tmp_path: Path, type_name: str, cls: type[Any]
) -> None:
    path = str(tmp_path / "x")
    catalog = DataCatalog.from_config({"x": {"type": type_name, "filepath": path}})
    assert type(catalog["x"]) is cls


def test_other_kedro_dataset_types_still_resolve_to_kedro_datasets() -> None:
    catalog = DataCatalog.from_config(
        {"x": {"type": "pandas.ExcelDataset", "filepath": "x.xlsx"}}
    )
    assert catalog.get_type("x") == "kedro_datasets.pandas.excel_dataset.ExcelDataset"


@pytest.mark.anyio
async def test_catalog_round_trip_with_versions(tmp_path: Path) -> None:
    path = str(tmp_path / "cars.csv")
    config = {
        "cars": {"type": "pandas.CSVDataset", "filepath": path, "versioned": True}
    }
    catalog = DataCatalog.from_config(config, save_version="2024-01-01T00.00.00.000Z")
    await catalog.asave("cars", FRAME)
    assert os.listdir(path) == ["2024-01-01T00.00.00.000Z"]
    pd.testing.assert_frame_equal(catalog.load("cars"), FRAME)
    saved, _, _, _ = catalog.to_config()
    assert saved["cars"] == {
        "type": "dagloop.io.csv_dataset.CSVDataset",
        "filepath": path,
        "load_args": None,
        "save_args": None,
        "versioned": True,
    }


def test_catalog_rejects_remote_paths_naming_the_dataset() -> None:
    # Named by its full path, dagloop's class is taken as written (a short name
    # would give kedro-datasets' class: tests/io/test_kedro_datasets_interop.py).
    catalog = DataCatalog.from_config(
        {
            "cars": {
                "type": "dagloop.io.pandas.CSVDataset",
                "filepath": "s3://bucket/cars.csv",
            }
        }
    )
    with pytest.raises(
        DatasetError, match=r"(?s)local-only.*Failed to instantiate dataset 'cars'"
    ):
        catalog["cars"]


# ----------------------------------------------------------------- versioning

V1, V2 = "2024-01-01T00.00.00.000Z", "2024-06-01T00.00.00.000Z"


@pytest.mark.anyio
async def test_versioned_save_writes_a_folder_per_version(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    for version, text in ((V1, "one"), (V2, "two")):
        await TextDataset(path, version=Version(None, version)).asave(text)
    assert sorted(os.listdir(path)) == [V1, V2]
    assert (path / V1 / "notes.txt").read_text() == "one"
    latest = TextDataset(path, version=Version(None, None))
    assert await latest.aload() == "two"
    assert await TextDataset(path, version=Version(V1, None)).aload() == "one"
    assert latest.load() == "two"


@pytest.mark.anyio
async def test_generated_save_version_is_loaded_back(tmp_path: Path) -> None:
    dataset = JSONDataset(tmp_path / "a.json", version=Version(None, None))
    await dataset.asave({"a": 1})
    (version,) = os.listdir(tmp_path / "a.json")
    assert dataset.resolve_save_version() == version
    assert await dataset.aload() == {"a": 1}


@pytest.mark.anyio
async def test_no_versions_yet(tmp_path: Path) -> None:
    dataset = PickleDataset(tmp_path / "m.pkl", version=Version(None, None))
    assert not await dataset.aexists()
    assert not dataset.exists()
    with pytest.raises(DatasetError, match="Did not find any versions for") as info:
        await dataset.aload()
    assert isinstance(info.value, VersionNotFoundError)
    with pytest.raises(DatasetError, match="Did not find any versions for"):
        dataset.load()


@pytest.mark.anyio
async def test_pinned_load_version_that_is_missing(tmp_path: Path) -> None:
    dataset = TextDataset(tmp_path / "t.txt", version=Version(V1, None))
    assert not await dataset.aexists()
    with pytest.raises(DatasetError, match="Failed while loading data from dataset"):
        await dataset.aload()


@pytest.mark.anyio
async def test_saving_an_existing_version_fails(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    await TextDataset(path, version=Version(None, V1)).asave("first")
    again = TextDataset(path, version=Version(None, V1))
    with pytest.raises(DatasetError, match="must not exist if versioning is enabled"):
        await again.asave("second")
    with pytest.raises(DatasetError, match="must not exist if versioning is enabled"):
        again.save("second")
    assert (path / V1 / "t.txt").read_text() == "first"


@pytest.mark.anyio
async def test_versioned_save_over_an_unversioned_file(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("plain")
    dataset = TextDataset(path, version=Version(None, V1))
    with pytest.raises(DatasetError, match=r"Cannot save versioned dataset 't\.txt'"):
        await dataset.asave("versioned")
    assert path.read_text() == "plain"


@pytest.mark.anyio
async def test_release_forgets_the_resolved_version(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    await TextDataset(path, version=Version(None, V1)).asave("one")
    reader = TextDataset(path, version=Version(None, None))
    assert await reader.aload() == "one"
    await TextDataset(path, version=Version(None, V2)).asave("two")
    assert await reader.aload() == "one"  # the resolved version is kept
    await reader.arelease()
    assert await reader.aload() == "two"


# --------------------------------------------------------------------- errors


@pytest.mark.anyio
@pytest.mark.parametrize(("cls", "name", "data"), CASES)
async def test_loading_a_missing_file(
    tmp_path: Path, cls: type[Any], name: str, data: Any
) -> None:
    dataset = cls(tmp_path / name)
    with pytest.raises(DatasetError, match="Failed while loading data from") as info:
        await dataset.aload()
    with pytest.raises(DatasetError, match="Failed while loading data from") as sync:
        dataset.load()
    for error in (info.value, sync.value):
        assert f"{cls.__name__}(filepath=" in str(error)
        assert name in str(error)
        assert isinstance(error.__cause__, FileNotFoundError)


@pytest.mark.anyio
@pytest.mark.parametrize(("cls", "name", "data"), CASES)
async def test_saving_none(
    tmp_path: Path, cls: type[Any], name: str, data: Any
) -> None:
    dataset = cls(tmp_path / name)
    with pytest.raises(
        DatasetError, match="Saving 'None' to a 'Dataset' is not allowed"
    ):
        await dataset.asave(None)
    with pytest.raises(
        DatasetError, match="Saving 'None' to a 'Dataset' is not allowed"
    ):
        dataset.save(None)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------- atomic saves


class _Unpicklable:
    def __reduce__(self) -> Any:
        raise RuntimeError("cannot pickle this")


class _WriteHook:
    """Wraps ``aiofiles.open`` so that writing a new file stops halfway.

    Half of the payload really reaches the temporary file; then ``on_write`` runs
    (it raises, or waits forever so the save can be cancelled mid-write).
    """

    def __init__(self, on_write: Callable[[], Awaitable[None]]) -> None:
        self.real_open = aiofiles.open
        self.on_write = on_write
        self.temp_sizes: list[int] = []
        self.files: list[Any] = []

    def __call__(self, path: str, mode: str = "r", **kwargs: Any) -> Any:
        opened = self.real_open(path, mode, **kwargs)
        return self._wrap(path, opened) if "x" in mode else opened

    async def _wrap(self, path: str, opened: Any) -> Any:
        file = await opened
        self.files.append(file)
        hook = self

        class HalfWriter:
            async def write(self, payload: bytes) -> None:
                await file.write(payload[: len(payload) // 2])
                await file.flush()
                hook.temp_sizes.append((await anyio.Path(path).stat()).st_size)
                await hook.on_write()

            def __getattr__(self, name: str) -> Any:
                return getattr(file, name)

        return HalfWriter()


async def _disk_full() -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def _state(path: Path) -> tuple[str, list[str]]:
    """The file's content and what its directory holds."""
    return path.read_text(), sorted(os.listdir(path.parent))


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    TextDataset(path).save("old content")
    return path


@pytest.mark.anyio
async def test_failure_midway_through_the_write_keeps_the_old_file(
    old_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = _WriteHook(_disk_full)
    monkeypatch.setattr(aiofiles, "open", hook)
    with pytest.raises(DatasetError, match="No space left on device") as info:
        await TextDataset(old_file).asave("new " * 50_000)
    assert isinstance(info.value.__cause__, OSError)
    assert hook.temp_sizes == [100_000]  # half the new data was written, then it failed
    assert all(file.closed for file in hook.files)
    assert _state(old_file) == ("old content", ["notes.txt"])


@pytest.mark.anyio
@pytest.mark.parametrize("step", ["fsync", "replace"])
async def test_failure_after_the_write_keeps_the_old_file(
    old_file: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EIO, f"{step} failed")

    if step == "fsync":
        monkeypatch.setattr(os, "fsync", fail)
    else:

        async def afail(*args: Any, **kwargs: Any) -> None:
            fail()

        monkeypatch.setattr(aiofiles.os, "replace", afail)
    with pytest.raises(DatasetError, match=f"{step} failed"):
        await TextDataset(old_file).asave("new")
    assert _state(old_file) == ("old content", ["notes.txt"])


@pytest.mark.anyio
async def test_failed_serialisation_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "m.pkl"
    dataset = PickleDataset(path)
    await dataset.asave({"version": 1})
    with pytest.raises(DatasetError, match="cannot pickle this"):
        await dataset.asave({"model": _Unpicklable()})
    with pytest.raises(DatasetError, match="not JSON serializable"):
        await JSONDataset(tmp_path / "m.json").asave({"x": object()})
    assert await dataset.aload() == {"version": 1}
    assert os.listdir(tmp_path) == ["m.pkl"]


@pytest.mark.anyio
async def test_cancelled_save_keeps_the_old_file(
    old_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writing = anyio.Event()
    never = anyio.Event()

    async def stall() -> None:
        writing.set()
        await never.wait()

    hook = _WriteHook(stall)
    monkeypatch.setattr(aiofiles, "open", hook)
    finished = False

    async def save() -> None:
        nonlocal finished
        await TextDataset(old_file).asave("new " * 50_000)
        finished = True

    async with anyio.create_task_group() as group:
        group.start_soon(save)
        await writing.wait()
        assert len(os.listdir(old_file.parent)) == 2  # the temporary file exists
        group.cancel_scope.cancel()
    assert not finished
    assert hook.temp_sizes == [100_000]
    assert all(file.closed for file in hook.files)
    assert _state(old_file) == ("old content", ["notes.txt"])


# ---------------------------------------------------------------- concurrency

LOADS = 50


def _fifo_datasets(tmp_path: Path) -> list[tuple[Any, bytes, Any]]:
    """``LOADS`` datasets of every kind whose files are named pipes.

    Reading a pipe blocks until someone writes to it, so a load that did its I/O
    on the event loop thread would freeze the loop.
    """
    made: list[tuple[Any, bytes, Any]] = []
    for index in range(LOADS):
        cls, payload, expected = [
            (TextDataset, f"text {index}".encode(), f"text {index}"),
            (JSONDataset, json.dumps([index]).encode(), [index]),
            (PickleDataset, pickle.dumps({"i": index}), {"i": index}),
            (CSVDataset, f"i\n{index}\n".encode(), pd.DataFrame({"i": [index]})),
        ][index % 4]
        os.mkfifo(tmp_path / f"pipe{index}")
        made.append((cls(tmp_path / f"pipe{index}"), payload, expected))
    return made


class _PipeFeeder:
    """One thread per pipe: opens it for writing, then writes once released.

    Opening a pipe's write end returns only when a reader has opened it, so
    ``arrived`` counts loads that are now blocked reading their file. ``DEADLINE``
    is only a safety valve: when a load blocks the event loop, nothing can release
    the feeders, and from then on they write anyway (marking themselves ``late``)
    so that the test fails instead of hanging.
    """

    DEADLINE = 20.0

    def __init__(self, pipes: list[tuple[str, bytes]]) -> None:
        self.release = threading.Event()
        self._deadline = time.monotonic() + self.DEADLINE
        self.arrived = 0
        self.late: list[str] = []
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._feed, args=pipe, daemon=True)
            for pipe in pipes
        ]
        for thread in self._threads:
            thread.start()

    def _feed(self, path: str, payload: bytes) -> None:
        with open(path, "wb") as pipe:
            with self._lock:
                self.arrived += 1
            if not self.release.wait(max(0.0, self._deadline - time.monotonic())):
                self.late.append(path)
            pipe.write(payload)

    def join(self) -> None:
        for thread in self._threads:
            thread.join()


@pytest.mark.anyio
async def test_concurrent_loads_do_not_block_the_loop(tmp_path: Path) -> None:
    datasets = _fifo_datasets(tmp_path)
    feeder = _PipeFeeder([(ds._filepath.as_posix(), data) for ds, data, _ in datasets])
    ticks_while_reading = 0
    loaded_before_release: int | None = None
    results: dict[int, Any] = {}

    async def ticker() -> None:
        nonlocal ticks_while_reading, loaded_before_release
        while True:
            if feeder.arrived and not feeder.release.is_set():
                ticks_while_reading += 1  # a load is blocked on I/O, yet we run
                if ticks_while_reading == 100:
                    loaded_before_release = len(results)
                    feeder.release.set()
            await anyio.lowlevel.checkpoint()

    async def load(index: int, dataset: Any) -> None:
        results[index] = await dataset.aload()

    async with anyio.create_task_group() as outer:
        outer.start_soon(ticker)
        async with anyio.create_task_group() as loads:
            for index, (dataset, _, _) in enumerate(datasets):
                loads.start_soon(load, index, dataset)
        outer.cancel_scope.cancel()
    await anyio.to_thread.run_sync(feeder.join)

    assert feeder.late == [], "the event loop was blocked while loads read files"
    assert ticks_while_reading == 100
    assert loaded_before_release == 0  # every load was still waiting for its data
    assert feeder.arrived == LOADS
    for index, (_, _, expected) in enumerate(datasets):
        assert_same(results[index], expected)
