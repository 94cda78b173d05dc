"""Streaming edges end to end: an ``async def`` generator node's items reach
its consumers while it runs, on every runner and backend (recorded, not timed)."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import pytest

from dagloop.io import AbstractDataset, DataCatalog, MemoryDataset
from dagloop.pipeline import node, pipeline
from dagloop.runner import SequentialRunner, ThreadRunner

LOG: list[tuple[str, int]] = []


async def pages(n: int) -> Any:
    for i in range(n):
        await anyio.lowlevel.checkpoint()
        LOG.append(("yield", i))
        yield {"page": i}


async def transform(pages: Any) -> list[int]:
    out = []
    async for page in pages:
        LOG.append(("got", page["page"]))
        await anyio.lowlevel.checkpoint()
        out.append(page["page"] * 2)
    return out


def count_in_thread(pages: Any) -> int:
    return sum(1 for _ in pages)


def total(doubled: list[int]) -> int:
    return sum(doubled)


PIPE = pipeline(
    [
        node(pages, "n", "pages", name="pages"),
        node(transform, "pages", "doubled", name="transform"),
        node(count_in_thread, "pages", "count", name="count"),
        node(total, "doubled", "total", name="total"),
    ]
)


@pytest.fixture(autouse=True)
def _clear_log() -> None:
    LOG.clear()


@pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner])
@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_items_reach_every_consumer_while_the_producer_runs(
    runner: Any, backend: str
) -> None:
    async def main() -> dict[str, Any]:
        outputs = await runner().arun(PIPE, DataCatalog({"n": MemoryDataset(40)}))
        return {name: ds.load() for name, ds in outputs.items()}

    result = anyio.run(main, backend=backend)
    assert result == {"total": sum(2 * i for i in range(40)), "count": 40}
    # The consumer read the first page before the producer yielded the last.
    assert LOG.index(("got", 0)) < LOG.index(("yield", 39))


class Chunks(AbstractDataset[Any, Any]):
    """A persistent dataset that records every save."""

    def __init__(self) -> None:
        self.saved: list[Any] = []

    def load(self) -> Any:
        return self.saved[-1]

    def save(self, data: Any) -> None:
        self.saved.append(data)

    def _describe(self) -> dict[str, Any]:
        return {}


def test_a_persistent_stream_is_saved_item_by_item() -> None:
    chunks = Chunks()
    catalog = DataCatalog({"n": MemoryDataset(5), "pages": chunks})
    SequentialRunner().run(PIPE, catalog)
    assert chunks.saved == [{"page": i} for i in range(5)]
    assert catalog.load("pages") == {"page": 4}  # a later run loads it as usual


async def broken_pages(n: int) -> Any:
    yield {"page": 0}
    raise ValueError("page 1 is broken")


def test_a_producers_error_fails_the_run_with_that_error() -> None:
    pipe = pipeline(
        [
            node(broken_pages, "n", "pages", name="pages"),
            node(transform, "pages", "doubled", name="transform"),
        ]
    )
    with pytest.raises(ValueError, match="page 1 is broken"):
        ThreadRunner().run(pipe, DataCatalog({"n": MemoryDataset(3)}))


async def failing_consumer(pages: Any) -> int:
    async for page in pages:
        if page["page"] == 2:
            raise RuntimeError("consumer gave up")
    return 0


def test_a_consumers_failure_stops_the_producer() -> None:
    pipe = pipeline(
        [
            node(pages, "n", "pages", name="pages"),
            node(failing_consumer, "pages", "out", name="consumer"),
        ]
    )
    with pytest.raises(RuntimeError, match="consumer gave up"):
        SequentialRunner().run(pipe, DataCatalog({"n": MemoryDataset(10_000)}))
    yielded = [i for kind, i in LOG if kind == "yield"]
    assert len(yielded) < 100  # stopped, not run to its end


AHEAD: list[int] = []


async def numbered(n: int) -> Any:
    for i in range(n):
        LOG.append(("yield", i))
        yield i


async def slow_reader(items: Any) -> int:
    count = 0
    async for i in items:
        made = sum(1 for kind, _ in LOG if kind == "yield")
        AHEAD.append(made - i)
        LOG.append(("got", i))
        await anyio.sleep(0.001)
        count += 1
    return count


def test_the_producer_stays_within_its_buffer_and_reports_the_wait() -> None:
    AHEAD.clear()
    pipe = pipeline(
        [
            node(numbered, "n", "items", name="producer", buffer=4),
            node(slow_reader, "items", "count", name="reader"),
        ]
    )
    events: list[Any] = []
    outputs = ThreadRunner().run(
        pipe, DataCatalog({"n": MemoryDataset(60)}), on_event=events.append
    )
    assert outputs["count"].load() == 60
    # Made but not yet read, seen as each item is read: the buffer's 4, the
    # item being read and the one the producer holds while it waits.
    assert max(AHEAD) <= 4 + 2
    (stream,) = [e for e in events if e.kind == "stream_finished"]
    assert (stream.node, stream.dataset, stream.items) == ("producer", "items", 60)
    assert stream.waited > 0


def total_of(items: list[int]) -> int:
    assert isinstance(items, list)  # collected before it crossed to the worker
    return sum(items)


def test_a_process_consumer_gets_the_stream_collected() -> None:
    from dagloop.io import SharedMemoryDataCatalog
    from dagloop.runner import ParallelRunner

    pipe = pipeline(
        [
            node(numbered, "n", "items", name="producer"),
            node(total_of, "items", "total", name="total"),
        ]
    )
    outputs = ParallelRunner().run(
        pipe, SharedMemoryDataCatalog({"n": MemoryDataset(10)})
    )
    assert outputs["total"].load() == 45


async def endless(n: int) -> Any:
    i = 0
    while True:
        LOG.append(("yield", i))
        yield i
        i += 1
        await anyio.sleep(0.001)


async def forever_reader(items: Any) -> int:
    async for i in items:
        LOG.append(("got", i))  # noqa: PERF401  (as each arrives)
    return 0


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_cancelling_the_run_stops_producer_and_consumers(backend: str) -> None:
    chunks = Chunks()
    pipe = pipeline(
        [
            node(endless, "n", "pages", name="producer"),
            node(forever_reader, "pages", "out", name="reader"),
        ]
    )

    async def main() -> None:
        with anyio.move_on_after(0.2):
            await ThreadRunner().arun(
                pipe, DataCatalog({"n": MemoryDataset(0), "pages": chunks})
            )

    anyio.run(main, backend=backend)
    made = sum(1 for kind, _ in LOG if kind == "yield")
    LOG.append(("after", 0))
    anyio.run(anyio.sleep, 0.05, backend=backend)
    assert sum(1 for kind, _ in LOG if kind == "yield") == made  # nothing runs on
    assert 0 < len(chunks.saved) <= made  # saved items stay saved


def sync_pages(n: int) -> Any:
    for i in range(n):
        LOG.append(("yield", i))
        yield {"page": i}


@pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner])
def test_a_sync_generator_with_stream_true_feeds_a_stream(runner: Any) -> None:
    pipe = pipeline(
        [
            node(sync_pages, "n", "pages", name="pages", stream=True, buffer=2),
            node(transform, "pages", "doubled", name="transform"),
        ]
    )
    outputs = runner().run(pipe, DataCatalog({"n": MemoryDataset(30)}))
    assert outputs["doubled"].load() == [2 * i for i in range(30)]
    assert LOG.index(("got", 0)) < LOG.index(("yield", 29))


def test_a_sync_generator_without_stream_keeps_kedros_behaviour() -> None:
    def last_page(pages: Any) -> int:
        return int(pages["page"])  # the last chunk saved, as Kedro gives it

    pipe = pipeline(
        [
            node(sync_pages, "n", "pages", name="pages"),
            node(last_page, "pages", "last", name="last"),
        ]
    )
    outputs = SequentialRunner().run(pipe, DataCatalog({"n": MemoryDataset(5)}))
    assert outputs["last"].load() == 4


@pytest.mark.parametrize(
    ("func", "settings", "fix"),
    [
        (total, {"stream": True}, "yield the items"),
        (total, {"buffer": 4}, "does not stream"),
        (sync_pages, {"stream": True, "retries": 1}, "drop retries="),
        (numbered, {"buffer": 0}, "int >= 1"),
    ],
)
def test_streaming_settings_are_checked(func: Any, settings: Any, fix: str) -> None:
    with pytest.raises(ValueError, match=fix):
        node(func, "a", "b", name="culprit", **settings)


async def first_three(items: Any) -> list[int]:
    taken = []
    async for i in items:
        taken.append(i)
        if len(taken) == 3:
            break
    return taken


def first_three_in_thread(items: Any) -> list[int]:
    taken = []
    for i in items:
        taken.append(i)
        if len(taken) == 3:
            break
    return taken


async def ignores(items: Any) -> int:
    return 0


@pytest.mark.timeout(20)
@pytest.mark.parametrize("reader", [first_three, first_three_in_thread, ignores])
def test_a_reader_that_stops_early_does_not_hold_the_producer_up(reader: Any) -> None:
    pipe = pipeline(
        [
            node(numbered, "n", "items", name="producer", buffer=2),
            node(reader, "items", "out", name="reader"),
            node(slow_reader, "items", "count", name="everything"),
        ]
    )
    outputs = ThreadRunner().run(pipe, DataCatalog({"n": MemoryDataset(50)}))
    assert outputs["count"].load() == 50
    assert outputs["out"].load() in ([0, 1, 2], 0)


def test_a_reader_that_also_needs_a_node_needing_the_stream_is_refused() -> None:
    pipe = pipeline(
        [
            node(numbered, "n", "items", name="producer"),
            node(slow_reader, "items", "count", name="count"),
            node(lambda items, count: count, ["items", "count"], "both", name="both"),
        ]
    )
    with pytest.raises(ValueError, match="'both' reads the stream 'items'"):
        ThreadRunner().run(pipe, DataCatalog({"n": MemoryDataset(5)}))
    assert LOG == []  # refused before any node ran


class Failing(AbstractDataset[Any, Any]):
    def load(self) -> Any:
        raise AssertionError("never loaded")

    def save(self, data: Any) -> None:
        raise OSError("disk full")

    def _describe(self) -> dict[str, Any]:
        return {}


def test_errors_with_a_saver_reach_the_caller_unwrapped() -> None:
    pipe = pipeline(
        [
            node(broken_pages, "n", "pages", name="pages"),
            node(transform, "pages", "doubled", name="transform"),
        ]
    )
    chunks = Chunks()
    with pytest.raises(ValueError, match="page 1 is broken"):  # no ExceptionGroup
        ThreadRunner().run(pipe, DataCatalog({"n": MemoryDataset(3), "pages": chunks}))
    assert chunks.saved in ([], [{"page": 0}])  # the saver may lag; no more
    from dagloop.io import DatasetError

    only_saved = pipeline([node(numbered, "n", "items", name="producer")])
    with pytest.raises(DatasetError, match="disk full"):
        ThreadRunner().run(
            only_saved, DataCatalog({"n": MemoryDataset(50), "items": Failing()})
        )


def test_a_streaming_node_is_refused_as_a_task_and_a_transcoded_stream() -> None:
    from dagloop.framework.hooks import _create_hook_manager
    from dagloop.runner import Task
    from dagloop.runner.task import TaskError

    task = Task(node(numbered, "n", "items", name="producer"), DataCatalog(), False,
                _create_hook_manager())  # fmt: skip
    with pytest.raises(TaskError, match="run it in a pipeline"):
        task.execute()
    with pytest.raises(ValueError, match="cannot be transcoded"):
        node(numbered, "n", "items@a", name="producer")


def sync_numbered(n: int) -> Any:
    yield from range(n)


def sync_total(items: Any) -> int:
    return sum(items)


async def async_total(items: Any) -> int:
    return sum([i async for i in items])


def process_total(items: list[int]) -> int:
    return sum(items)


HANGS_BEFORE = [
    # A stream's nodes hold no admission, thread or tag slot of the runner's:
    # each of these waited forever on a full buffer before (items >> buffer).
    ("ThreadRunner(), sync producer and reader", lambda: ThreadRunner(), sync_numbered, sync_total, {}),
    ("max_workers=1", lambda: ThreadRunner(max_workers=1), numbered, sync_total, {}),
    ("max_concurrency=1", lambda: ThreadRunner(max_concurrency=1), numbered, async_total, {}),
    ("a tag limit of 1", lambda: ThreadRunner(limits={"api": 1}), numbered, async_total, {"tags": ["api"]}),
    ("threads under SequentialRunner", lambda: SequentialRunner(), sync_numbered, sync_total, {"executor": "thread"}),
]  # fmt: skip


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("make", "producer", "reader", "settings"),
    [case[1:] for case in HANGS_BEFORE],
    ids=[case[0] for case in HANGS_BEFORE],
)
def test_long_streams_never_wait_on_the_runners_slots(
    make: Any, producer: Any, reader: Any, settings: dict[str, Any]
) -> None:
    producer_settings = {"stream": True} if producer is sync_numbered else {}
    pipe = pipeline(
        [
            node(producer, "n", "items", name="producer", buffer=2,
                 **producer_settings, **settings),
            node(reader, "items", "a", name="reader_a", **settings),
            node(reader, "items", "b", name="reader_b", **settings),
        ]
    )  # fmt: skip
    outputs = make().run(pipe, DataCatalog({"n": MemoryDataset(200)}))
    assert outputs["a"].load() == outputs["b"].load() == sum(range(200))


@pytest.mark.timeout(60)
def test_process_readers_of_a_long_stream_on_parallel_runner() -> None:
    from dagloop.io import SharedMemoryDataCatalog
    from dagloop.runner import ParallelRunner

    pipe = pipeline(
        [
            node(numbered, "n", "items", name="producer", buffer=2),
            node(process_total, "items", "a", name="reader_a"),
            node(process_total, "items", "b", name="reader_b"),
        ]
    )
    outputs = ParallelRunner(max_workers=1).run(
        pipe, SharedMemoryDataCatalog({"n": MemoryDataset(200)})
    )
    assert outputs["a"].load() == outputs["b"].load() == sum(range(200))


async def doubled_stream(items: Any) -> Any:
    async for i in items:
        yield i * 2


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_node_can_read_one_stream_and_yield_another(backend: str) -> None:
    # producer -> transform (reads a stream, yields a stream) -> sink
    pipe = pipeline(
        [
            node(numbered, "n", "items", name="producer", buffer=2),
            node(doubled_stream, "items", "doubled", name="transform", buffer=2),
            node(async_total, "doubled", "total", name="sink"),
        ]
    )

    async def main() -> int:
        outputs = await ThreadRunner().arun(
            pipe, DataCatalog({"n": MemoryDataset(100)})
        )
        return int(outputs["total"].load())

    assert anyio.run(main, backend=backend) == 2 * sum(range(100))
