"""Run events: one stream for every runner and placement (issue 10, sections 1-2).

``on_event=`` gets each event as it happens; ``runner.stream()`` gives them to an
``async for`` and the outputs after the block. What the events say is checked
against what ran: which placement, which thread or process, how many attempts.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from typing import Any

import anyio
import pytest

from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import ParallelRunner, RunEvent, SequentialRunner, ThreadRunner
from tests.runner._nodes import (
    RUNNER_KINDS,
    NodeFailure,
    add_one,
    current_pid,
    fail,
    make_catalog,
    make_runner,
    nap,
)

pytestmark = pytest.mark.anyio


async def async_add_one(x: int) -> int:
    return x + 1


def thread_name(x: Any) -> str:
    return threading.current_thread().name


def mixed() -> Pipeline:
    """One node per placement: async, inline, thread, process."""
    return Pipeline(
        [
            node(async_add_one, "a", "b", name="on_loop"),
            node(add_one, "b", "c", name="inline", executor="inline"),
            node(thread_name, "c", "thread_out", name="in_thread", executor="thread"),
            node(current_pid, "c", "pid", name="in_process", executor="process"),
        ]
    )


def by_kind(events: list[RunEvent], kind: str) -> dict[str | None, RunEvent]:
    return {e.node: e for e in events if e.kind == kind}


@pytest.mark.parametrize("kind", RUNNER_KINDS)
def test_on_event_reports_every_node_where_it_ran(kind):
    events: list[RunEvent] = []
    catalog = make_catalog(kind, {"a": MemoryDataset(1)})

    outputs = make_runner(kind).run(mixed(), catalog, on_event=events.append)

    assert events[0].kind == "run_started"
    assert events[-1].kind == "run_finished"
    assert len({e.run_id for e in events}) == 1
    finished = by_kind(events, "node_finished")
    assert {name: e.placement for name, e in finished.items()} == {
        "on_loop": "async",
        "inline": "inline",
        "in_thread": "thread",
        "in_process": "process",
    }
    # The worker is the thread the function ran in, or the worker's pid.
    assert finished["in_thread"].worker == outputs["thread_out"].load()
    assert finished["in_process"].worker == outputs["pid"].load()
    assert finished["in_process"].worker != os.getpid()
    # Every node started before it finished, and took a measured time.
    started = by_kind(events, "node_started")
    assert started.keys() == finished.keys()
    for name, event in finished.items():
        assert started[name].at <= event.at
        assert event.duration is not None
        assert event.duration >= 0
        assert event.attempt == 1
    # A load and a save per node input and output, each inside its node's span.
    loads = [(e.node, e.dataset) for e in events if e.kind == "dataset_loaded"]
    saves = [(e.node, e.dataset) for e in events if e.kind == "dataset_saved"]
    assert sorted(loads) == sorted(
        [("on_loop", "a"), ("inline", "b"), ("in_thread", "c"), ("in_process", "c")]
    )
    assert sorted(saves) == sorted(
        [
            ("on_loop", "b"),
            ("inline", "c"),
            ("in_thread", "thread_out"),
            ("in_process", "pid"),
        ]
    )
    times = [e.at for e in events]
    assert times == sorted(times)


def test_a_failed_node_and_run_carry_the_error():
    events: list[RunEvent] = []
    pipe = Pipeline([node(fail, "a", "b", name="broken")])

    with pytest.raises(NodeFailure) as raised:
        ThreadRunner().run(
            pipe, DataCatalog({"a": MemoryDataset(1)}), on_event=events.append
        )

    failed = by_kind(events, "node_failed")["broken"]
    assert failed.error is raised.value
    assert events[-1].kind == "run_failed"
    assert events[-1].error is raised.value
    assert "node_finished" not in {e.kind for e in events}


def test_retries_are_reported_with_the_attempt_that_failed():
    calls: list[int] = []

    def flaky(x: int) -> int:
        calls.append(x)
        if len(calls) < 3:
            raise RuntimeError(f"attempt {len(calls)}")
        return x

    events: list[RunEvent] = []
    pipe = Pipeline([node(flaky, "a", "b", name="flaky", retries=2, retry_delay=0)])

    SequentialRunner().run(
        pipe, DataCatalog({"a": MemoryDataset(1)}), on_event=events.append
    )

    retrying = [e for e in events if e.kind == "node_retrying"]
    assert [e.attempt for e in retrying] == [1, 2]
    assert [str(e.error) for e in retrying] == ["attempt 1", "attempt 2"]
    assert by_kind(events, "node_finished")["flaky"].attempt == 3


async def async_nap(x: Any) -> Any:
    await anyio.sleep(0.05)
    return x


@pytest.mark.parametrize("where", ["thread", "process", "async"])
def test_a_node_waiting_for_a_worker_has_not_started(where):
    # Six ready nodes, room for two: at most two are between node_started and
    # node_finished at any time, and a waiting node has loaded nothing yet.
    events: list[RunEvent] = []
    runner = {
        "thread": lambda: ThreadRunner(max_workers=2),
        "process": lambda: ParallelRunner(max_workers=2),
        "async": lambda: ThreadRunner(max_concurrency=2),
    }[where]()
    func = async_nap if where == "async" else nap
    pipe = Pipeline([node(func, "a", f"b{i}", name=f"n{i}") for i in range(6)])
    catalog_kind = "parallel" if where == "process" else "thread"
    runner.run(
        pipe,
        make_catalog(catalog_kind, {"a": MemoryDataset(1)}),
        on_event=events.append,
    )
    running, most = 0, 0
    for event in events:
        if event.kind == "node_started":
            running += 1
            most = max(most, running)
        elif event.kind == "node_finished":
            running -= 1
        elif event.kind == "dataset_loaded":
            assert running >= 1, "an input was loaded for a node that had not started"
    assert most == 2


def test_run_started_counts_the_nodes_the_run_will_run(tmp_path):
    from dagloop.io import PickleDataset

    events: list[RunEvent] = []
    pipe = Pipeline(
        [node(add_one, "a", "b", name="one"), node(add_one, "b", "c", name="two")]
    )
    catalog = DataCatalog(
        {"a": MemoryDataset(1)}
        | {x: PickleDataset(filepath=str(tmp_path / f"{x}.pkl")) for x in "bc"}
    )
    SequentialRunner().run(pipe, catalog, on_event=events.append)
    assert events[0].kind == "run_started"
    assert events[0].nodes == 2
    events.clear()
    (tmp_path / "c.pkl").unlink()  # b exists: only 'two' runs
    SequentialRunner().run(
        pipe, catalog, only_missing_outputs=True, on_event=events.append
    )
    assert events[0].kind == "run_started"
    assert events[0].nodes == 1
    assert [e.node for e in events if e.kind == "node_started"] == ["two"]


def test_a_run_failing_before_it_knows_its_nodes_still_starts_with_run_started():
    from dagloop.io import AbstractDataset

    class Unreadable(AbstractDataset[Any, Any]):
        def _load(self) -> Any:
            raise OSError("storage is down")

        def _save(self, data: Any) -> None:
            raise OSError("storage is down")

        def _exists(self) -> bool:
            raise OSError("storage is down")

        def _describe(self) -> dict[str, Any]:
            return {}

    events: list[RunEvent] = []
    with pytest.raises(Exception, match="storage is down"):
        SequentialRunner().run(
            Pipeline([node(add_one, "a", "b", name="one")]),
            DataCatalog({"a": MemoryDataset(1), "b": Unreadable()}),
            only_missing_outputs=True,
            on_event=events.append,
        )
    assert [e.kind for e in events] == ["run_started", "run_failed"]
    assert events[0].nodes is None


def test_a_raising_callback_is_logged_and_the_run_goes_on(caplog):
    seen: list[str] = []

    def broken(event: RunEvent) -> None:
        seen.append(event.kind)
        raise KeyError("observer bug")

    with caplog.at_level(logging.WARNING, logger="dagloop.runner"):
        outputs = SequentialRunner().run(
            Pipeline([node(add_one, "a", "b", name="one")]),
            DataCatalog({"a": MemoryDataset(1)}),
            on_event=broken,
        )

    assert outputs["b"].load() == 2
    assert seen == ["run_started"]  # no further events after it raised
    assert "on_event callback" in caplog.text


def test_a_callback_that_is_not_callable_is_refused_before_any_work():
    ran: list[int] = []
    with pytest.raises(TypeError, match="on_event should be a callable"):
        SequentialRunner().run(
            Pipeline([node(ran.append, "a", None, name="one")]),
            DataCatalog({"a": MemoryDataset(1)}),
            on_event="print",  # type: ignore[arg-type]
        )
    assert ran == []


@pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner])
async def test_stream_yields_the_events_then_the_outputs(runner):
    # SequentialRunner moves a sync pipeline to a thread of its own: its events
    # cross to the reader's loop, in order.
    pipe = Pipeline(
        [node(add_one, "a", "b", name="one"), node(add_one, "b", "c", name="two")]
    )
    async with runner().stream(pipe, DataCatalog({"a": MemoryDataset(1)})) as run:
        kinds = [(e.kind, e.node) async for e in run]

    assert kinds == [
        ("run_started", None),
        ("node_started", "one"),
        ("dataset_loaded", "one"),
        ("dataset_saved", "one"),
        ("node_finished", "one"),
        ("node_started", "two"),
        ("dataset_loaded", "two"),
        ("dataset_saved", "two"),
        ("node_finished", "two"),
        ("run_finished", None),
    ]
    assert run.outputs["c"].load() == 3


async def test_stream_raises_the_runs_error_when_the_block_ends():
    pipe = Pipeline([node(fail, "a", "b", name="broken")])
    kinds: list[str] = []
    with pytest.raises(NodeFailure):
        async with ThreadRunner().stream(
            pipe, DataCatalog({"a": MemoryDataset(1)})
        ) as run:
            kinds = [e.kind async for e in run]
    assert kinds[-1] == "run_failed"
    with pytest.raises(RuntimeError, match="has no outputs"):
        run.outputs  # noqa: B018


async def test_leaving_the_block_early_cancels_the_run():
    cancelled: list[bool] = []

    async def forever(x: Any) -> None:
        try:
            await anyio.sleep_forever()
        except anyio.get_cancelled_exc_class():
            cancelled.append(True)
            raise

    pipe = Pipeline([node(forever, "a", "b", name="forever")])
    with anyio.fail_after(5):
        async with ThreadRunner().stream(
            pipe, DataCatalog({"a": MemoryDataset(1)})
        ) as run:
            async for event in run:
                if event.kind == "node_started":
                    break
    assert cancelled == [True]


async def test_a_lagging_reader_loses_dataset_events_never_node_events():
    last_ran = anyio.Event()

    async def last(*values: Any) -> int:
        last_ran.set()
        return len(values)

    width = 30
    pipe = Pipeline(
        [node(async_add_one, "a", f"x{i}", name=f"n{i}") for i in range(width)]
        + [node(last, [f"x{i}" for i in range(width)], "total", name="last")]
    )
    async with ThreadRunner().stream(
        pipe, DataCatalog({"a": MemoryDataset(1)}), buffer=10
    ) as run:
        await last_ran.wait()  # read nothing while the run goes on
        events = [e async for e in run]

    assert run.outputs["total"].load() == width
    assert run.dropped > 0
    nodes = by_kind(events, "node_finished")
    assert len(nodes) == width + 1  # every node's fate is there
    assert events[-1].kind == "run_finished"


async def test_a_reader_on_another_thread_sees_each_event_while_the_run_waits():
    # A sync pipeline runs on a thread of its own. Each node waits until the
    # reader has seen its node_started: a wake-up lost between the two threads
    # would leave the event queued and the node waiting (and the test failing).
    seen: dict[str, threading.Event] = {n: threading.Event() for n in ("one", "two")}

    def wait_until_seen(x: int, name: str) -> int:
        assert seen[name].wait(timeout=10), f"the reader never saw {name} start"
        return x + 1

    pipe = Pipeline(
        [
            node(wait_until_seen, ["a", "params:one"], "b", name="one"),
            node(wait_until_seen, ["b", "params:two"], "c", name="two"),
        ]
    )
    catalog = DataCatalog(
        {"a": MemoryDataset(1), "params:one": MemoryDataset("one")}
        | {"params:two": MemoryDataset("two")}
    )
    with anyio.fail_after(20):
        async with SequentialRunner().stream(pipe, catalog) as run:
            async for event in run:
                if event.kind == "node_started":
                    assert event.worker != threading.current_thread().name
                    seen[event.node].set()  # type: ignore[index]
    assert run.outputs["c"].load() == 3


def test_a_raising_observer_is_dropped_and_the_others_go_on(caplog):
    from dagloop.runner._events import CallbackObserver, RunEvents

    good: list[str] = []

    def bad(event: RunEvent) -> None:
        raise KeyError("observer bug")

    events = RunEvents("r1", (CallbackObserver(bad), CallbackObserver(good.append)))
    with caplog.at_level(logging.WARNING, logger="dagloop.runner"):
        events.emit("run_started")
        events.node("node_started", "n", "inline", "MainThread", 1)
        events.dataset("dataset_loaded", "n", "d", 0.0)
    assert [e.kind for e in good] == ["run_started", "node_started", "dataset_loaded"]
    assert caplog.text.count("raised on a 'run_started' event") == 1
    assert "Run r1: the on_event callback" in caplog.text


def test_a_dropped_observer_is_closed_and_a_failing_close_spares_the_others(caplog):
    from dagloop.runner._events import RunEvents

    class Recorder:
        def __init__(self, fail_on: str | None = None, fail_close: bool = False):
            self.kinds: list[str] = []
            self.closed = 0
            self.fail_on, self.fail_close = fail_on, fail_close

        def put(self, event: RunEvent) -> None:
            if event.kind == self.fail_on:
                raise RuntimeError("observer bug")
            self.kinds.append(event.kind)

        def close(self) -> None:
            self.closed += 1
            if self.fail_close:
                raise RuntimeError("close bug")

    dropped, failing_close, good = (
        Recorder("node_started"),
        Recorder(None, True),
        Recorder(),
    )
    events = RunEvents("r1", (dropped, failing_close, good))
    with caplog.at_level(logging.WARNING, logger="dagloop.runner"):
        events.started(1)
        events.node("node_started", "n", "inline", "MainThread", 1)
        assert dropped.closed == 1  # closed when dropped: a bar stops, a reader ends
        events.emit("run_finished", duration=0.1)
        events.close()
    assert dropped.kinds == ["run_started"]
    assert dropped.closed == 1  # not closed twice
    assert failing_close.closed == 1
    assert good.closed == 1  # closed although the one before raised
    assert good.kinds == ["run_started", "node_started", "run_finished"]
    assert "raised when the run ended" in caplog.text


def test_a_node_waiting_to_retry_gives_its_slot_to_others():
    # One thread, a flaky node backing off 0.3 s: the other node runs meanwhile.
    calls: list[int] = []

    def flaky(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            raise ConnectionError("busy")
        return x

    events: list[RunEvent] = []
    pipe = Pipeline(
        [
            node(flaky, "a", "b", name="flaky", retries=1, retry_delay=0.3),
            node(add_one, "a", "c", name="other"),
        ]
    )
    ThreadRunner(max_workers=1).run(
        pipe, DataCatalog({"a": MemoryDataset(1)}), on_event=events.append
    )
    order = [(e.kind, e.node) for e in events if e.kind.startswith("node")]
    retried = order.index(("node_retrying", "flaky"))
    assert order.index(("node_finished", "other")) > retried
    assert order.index(("node_finished", "other")) < order.index(
        ("node_finished", "flaky")
    )
    retrying = next(e for e in events if e.kind == "node_retrying")
    assert retrying.placement == "thread"


def test_events_are_plain_frozen_dataclasses():
    import dataclasses

    seen: list[RunEvent] = []
    SequentialRunner().run(
        Pipeline([node(add_one, "a", "b", name="one")]),
        DataCatalog({"a": MemoryDataset(1)}),
        on_event=seen.append,
        run_id="r1",
    )
    loaded = next(e for e in seen if e.kind == "dataset_loaded")
    # Built without RunEvent(...), yet equal to one built with it, field by field.
    assert loaded == RunEvent(
        "dataset_loaded", "r1", loaded.at, node="one", dataset="a",
        duration=loaded.duration,
    )  # fmt: skip
    assert dataclasses.asdict(loaded)["placement"] is None
    assert dataclasses.replace(loaded, at=0.0).at == 0.0
    assert hash(loaded) == hash(dataclasses.replace(loaded))
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.kind = "node_started"  # type: ignore[misc]


async def test_stream_refuses_a_bad_buffer():
    with pytest.raises(ValueError, match="buffer should be a positive int"):
        async with ThreadRunner().stream(Pipeline([]), DataCatalog(), buffer=0):
            pass


def test_importing_dagloop_configures_no_logging():
    # Kedro-style node lines are one logging.basicConfig(level=INFO) away
    # (docs/events.md); dagloop itself adds no handler and sets no level.
    code = (
        "import logging, dagloop, dagloop.runner, dagloop.io, dagloop.pipeline\n"
        "loggers = [logging.getLogger()] + [\n"
        "    logging.getLogger(n) for n in logging.Logger.manager.loggerDict\n"
        "    if n.startswith('dagloop')]\n"
        "print(sum(len(lg.handlers) for lg in loggers),\n"
        "      [lg.name for lg in loggers[1:] if lg.level != logging.NOTSET])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["0", "[]"]
