"""Deadlines always hold: whatever is in flight, the caller gets control back.

``run(timeout=...)`` and a caller cancelling ``arun()`` must return while a sync
node inline or in a thread, or a dataset load or save in a thread, is still
blocked — never only once it ends, never silently late. Every test here blocks
the work on an event that is released only after the run has returned, so a
run that waited for it would fail the test (by ``GUARD``), not pass slowly.
"""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest

from dagloop.framework.hooks import hook_impl
from dagloop.io import AbstractDataset, DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import RunTimeoutError, SequentialRunner, ThreadRunner
from tests.runner._nodes import hook_manager_with, identity
from tests.runner._reliability_nodes import GUARD, Blocker

LIMIT = 0.3


class BlockingDataset(AbstractDataset[Any, Any]):
    """A sync dataset whose load or save blocks its I/O thread on a ``Blocker``."""

    def __init__(self, blocker: Blocker, *, block: str, data: Any = None) -> None:
        self.blocker = blocker
        self.block = block
        self.data = data

    def _load(self) -> Any:
        if self.block == "load":
            self.blocker.block(None)
        return self.data

    def _save(self, data: Any) -> None:
        if self.block == "save":
            self.blocker.block(None)
        self.data = data

    def _describe(self) -> dict[str, Any]:
        return {"block": self.block}


@pytest.fixture
def blocker() -> Any:
    made = Blocker()
    yield made
    made.release.set()


def blocked_in(where: str, blocker: Blocker) -> tuple[Pipeline, DataCatalog]:
    """A one-node pipeline whose node, load or save is blocked."""
    catalog = DataCatalog({"a": MemoryDataset(1)})
    if where == "load":
        catalog["a"] = BlockingDataset(blocker, block="load", data=1)
    if where == "save":
        catalog["b"] = BlockingDataset(blocker, block="save")
    func = blocker.block if where in ("inline", "thread") else identity
    executor = where if where in ("inline", "thread") else None
    return Pipeline([node(func, "a", "b", name="n", executor=executor)]), catalog


@pytest.mark.parametrize("where", ["inline", "thread", "load", "save"])
@pytest.mark.parametrize("runner", [SequentialRunner, ThreadRunner])
def test_run_timeout_returns_while_work_is_blocked(runner, where, blocker, caplog):
    pipe, catalog = blocked_in(where, blocker)
    with pytest.raises(RunTimeoutError):
        runner().run(pipe, catalog, timeout=LIMIT)
    assert blocker.entered.is_set()
    assert not blocker.returned.is_set()  # control came back first
    if where in ("load", "save"):
        abandoned = [r.getMessage() for r in caplog.records if r.name == "dagloop.io"]
        assert any("BlockingDataset" in m and where in m for m in abandoned), abandoned


@pytest.mark.anyio
@pytest.mark.parametrize("where", ["inline", "thread", "load", "save"])
async def test_a_callers_deadline_stops_arun_while_work_is_blocked(where, blocker):
    pipe, catalog = blocked_in(where, blocker)
    with pytest.raises(TimeoutError), anyio.fail_after(LIMIT):
        await SequentialRunner().arun(pipe, catalog)
    assert blocker.entered.is_set()
    assert not blocker.returned.is_set()


@pytest.mark.anyio
async def test_a_blocking_hook_does_not_hold_up_a_cancelled_arun(blocker):
    class SlowHook:
        @hook_impl
        def before_node_run(self, node: Any) -> None:
            blocker.block(None)

    with pytest.raises(TimeoutError), anyio.fail_after(LIMIT):
        await SequentialRunner().arun(
            Pipeline([node(identity, "a", "b")]),
            DataCatalog({"a": MemoryDataset(1)}),
            hook_manager=hook_manager_with(SlowHook()),
        )
    assert blocker.entered.is_set()
    assert not blocker.returned.is_set()


def test_an_inline_node_without_a_deadline_stays_inline():
    """No deadline, no detour: run() keeps sync nodes on its own loop thread."""
    seen: list[str] = []

    def where(x: Any) -> Any:
        seen.append(threading.current_thread().name)
        return x

    SequentialRunner().run(
        Pipeline([node(where, "a", "b")]), DataCatalog({"a": MemoryDataset(1)})
    )
    assert seen == [threading.current_thread().name]


class TestSequentialArunOfASyncPipeline:
    """``SequentialRunner.arun()`` of sync nodes only: one thread for the whole run."""

    @pytest.mark.anyio
    async def test_every_node_runs_in_one_thread_off_the_callers_loop(self):
        seen: list[int] = []

        def where(x: Any) -> Any:
            seen.append(threading.get_ident())
            return x

        pipe = Pipeline([node(where, f"d{i}", f"d{i + 1}") for i in range(5)])
        result = await SequentialRunner().arun(
            pipe, DataCatalog({"d0": MemoryDataset(1)})
        )
        assert result["d5"].load() == 1
        assert len(set(seen)) == 1
        assert seen[0] != threading.get_ident()

    @pytest.mark.anyio
    async def test_an_async_node_keeps_the_run_on_the_callers_loop(self):
        seen: list[int] = []

        async def on_loop(x: Any) -> Any:
            seen.append(threading.get_ident())
            return x

        def in_thread(x: Any) -> Any:
            seen.append(threading.get_ident())
            return x

        pipe = Pipeline([node(on_loop, "a", "b"), node(in_thread, "b", "c")])
        await SequentialRunner().arun(pipe, DataCatalog({"a": MemoryDataset(1)}))
        assert seen[0] == threading.get_ident()
        assert seen[1] != threading.get_ident()

    @pytest.mark.anyio
    @pytest.mark.parametrize("executor", ["thread", None], ids=["thread", "inline"])
    async def test_a_cancelled_run_starts_no_further_node(self, blocker, executor):
        # Inline, the run's own loop never waits: it must still see the
        # cancellation before starting the next node.
        ran: list[str] = []

        def later(x: Any) -> Any:
            ran.append("later")
            return x

        pipe = Pipeline(
            [
                node(blocker.block, "a", "b", name="blocked", executor=executor),
                node(later, "b", "c", name="later"),
            ]
        )
        with pytest.raises(TimeoutError), anyio.fail_after(LIMIT):
            await SequentialRunner().arun(pipe, DataCatalog({"a": MemoryDataset(1)}))
        assert not blocker.returned.is_set()
        blocker.release.set()
        assert blocker.returned.wait(GUARD)
        assert ran == []
