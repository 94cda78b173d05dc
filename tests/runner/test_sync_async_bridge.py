"""``run()`` and ``arun()`` from every kind of caller, and ``Task``.

``run()`` must work with no event loop and from inside a running one (asyncio,
uvloop, trio) without re-entering it; ``arun()`` on every backend; both give the
same results under every runner.
"""

from __future__ import annotations

import asyncio
import gc
import re
import threading
from typing import Any

import anyio.lowlevel
import pytest
import trio
import uvloop

from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import ParallelRunner, SequentialRunner, Task
from dagloop.runner.task import TaskError
from tests.runner._nodes import (
    RUNNER_KINDS,
    HookRecorder,
    NodeFailure,
    StoreDataset,
    add,
    add_one,
    count_to,
    double,
    fail,
    hook_manager_with,
    make_catalog,
    make_runner,
    pairs,
)


async def async_square(x: int) -> int:
    await anyio.lowlevel.checkpoint()
    return x * x


async def loop_thread(x: Any) -> int:
    return threading.get_ident()


def sync_thread(x: Any) -> int:
    return threading.get_ident()


def diamond() -> Pipeline:
    """Sync, async, generator and multi-output nodes, in two branches."""
    return Pipeline(
        [
            node(add_one, "a", "b", name="inc"),
            node(double, "b", "c", name="double"),
            node(async_square, "b", "d", name="square"),
            node(add, ["c", "d"], "e", name="total"),
            node(pairs, "b", ["left", "right"], name="stream"),
        ]
    )


DIAMOND_OUTPUTS = {"e": 24, "left": 3, "right": 30}


def loaded(result: dict[str, Any]) -> dict[str, Any]:
    return {name: dataset.load() for name, dataset in result.items()}


def threads_pipeline() -> Pipeline:
    return Pipeline(
        [
            node(loop_thread, "a", "loop", name="on_loop"),
            node(sync_thread, "a", "sync", name="sync", executor="inline"),
            node(add_one, "a", "b", name="inc"),
        ]
    )


# ------------------------------------------------------------------- run()


class TestRunWithoutLoop:
    def test_runs_a_loop_in_this_thread(self, kind):
        result = make_runner(kind).run(
            threads_pipeline(), make_catalog(kind, {"a": MemoryDataset(1)})
        )
        assert result["loop"].load() == threading.get_ident()
        assert result["sync"].load() == threading.get_ident()
        assert result["b"].load() == 2

    def test_consecutive_runs_each_work(self):
        for value in (1, 5, 9):
            result = SequentialRunner().run(
                diamond(), DataCatalog({"a": MemoryDataset(value)})
            )
            assert result["e"].load() == 2 * (value + 1) + (value + 1) ** 2


@pytest.fixture(params=RUNNER_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


class TestRunInsideARunningLoop:
    """A sync call made from async code (a notebook cell, a sync helper)."""

    @pytest.mark.parametrize(
        "start", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"]
    )
    def test_from_an_asyncio_coroutine(self, kind, start):
        async def main():
            result = make_runner(kind).run(
                threads_pipeline(), make_catalog(kind, {"a": MemoryDataset(1)})
            )
            return threading.get_ident(), loaded(result)

        caller_loop, outputs = start(main())

        assert outputs["b"] == 2
        # The run had its own loop in another thread: the caller's loop was
        # never re-entered.
        assert outputs["loop"] != caller_loop
        assert outputs["sync"] == outputs["loop"]

    @pytest.mark.parametrize(
        "start", [asyncio.run, uvloop.run], ids=["asyncio", "uvloop"]
    )
    def test_from_a_loop_callback_outside_any_task(self, kind, start):
        # A plain callback (as greenlet bridges such as Playwright's sync API
        # also run code): asyncio's loop runs in this thread, with no task.
        async def main():
            done: asyncio.Future[dict[str, Any]] = asyncio.Future()

            def callback() -> None:
                result = make_runner(kind).run(
                    threads_pipeline(), make_catalog(kind, {"a": MemoryDataset(1)})
                )
                done.set_result(loaded(result))

            asyncio.get_running_loop().call_soon(callback)
            return threading.get_ident(), await done

        caller_loop, outputs = start(main())

        assert outputs["b"] == 2
        assert outputs["loop"] != caller_loop

    def test_from_a_trio_program(self, kind):
        async def main():
            result = make_runner(kind).run(
                threads_pipeline(), make_catalog(kind, {"a": MemoryDataset(1)})
            )
            return threading.get_ident(), loaded(result)

        caller_loop, outputs = trio.run(main)

        assert outputs["b"] == 2
        assert outputs["loop"] != caller_loop

    def test_node_exception_is_the_same_object(self):
        error = NodeFailure("from inside a loop")

        def raise_it(x):
            raise error

        async def main():
            SequentialRunner().run(
                Pipeline([node(raise_it, "a", "b", name="n1")]),
                DataCatalog({"a": MemoryDataset(1)}),
            )

        with pytest.raises(NodeFailure) as excinfo:
            asyncio.run(main())
        assert excinfo.value is error

    def test_diamond_gives_the_same_outputs(self, kind):
        async def main():
            return loaded(
                make_runner(kind).run(
                    diamond(), make_catalog(kind, {"a": MemoryDataset(3)})
                )
            )

        assert asyncio.run(main()) == DIAMOND_OUTPUTS


# ------------------------------------------------------------------ arun()


class TestArun:
    @pytest.mark.anyio
    async def test_runs_on_the_callers_loop(self, kind):
        result = await make_runner(kind).arun(
            threads_pipeline(), make_catalog(kind, {"a": MemoryDataset(1)})
        )
        assert result["loop"].load() == threading.get_ident()
        assert result["sync"].load() == threading.get_ident()
        assert result["b"].load() == 2

    @pytest.mark.anyio
    async def test_node_exception_is_the_same_object(self, kind):
        error = NodeFailure("from arun")

        async def raise_it(x):
            raise error

        with pytest.raises(NodeFailure) as excinfo:
            await make_runner(kind).arun(
                Pipeline([node(raise_it, "a", "b", name="n1")]),
                make_catalog(kind, {"a": MemoryDataset(1)}),
            )
        assert excinfo.value is error

    @pytest.mark.anyio
    async def test_only_missing_outputs_and_run_id_are_accepted(self, kind):
        recorder = HookRecorder()
        result = await make_runner(kind).arun(
            diamond(),
            make_catalog(kind, {"a": MemoryDataset(3)}),
            hook_manager_with(recorder),
            run_id="r1",
            only_missing_outputs=False,
        )
        assert loaded(result) == DIAMOND_OUTPUTS
        assert {c.kwargs["run_id"] for c in recorder.of("before_node_run")} == {"r1"}


# ---------------------------------------------------- same results everywhere


class TestSameOutputsEverywhere:
    def test_run(self, kind):
        result = make_runner(kind).run(
            diamond(), make_catalog(kind, {"a": MemoryDataset(3)})
        )
        assert loaded(result) == DIAMOND_OUTPUTS

    @pytest.mark.anyio
    async def test_arun(self, kind):
        result = await make_runner(kind).arun(
            diamond(), make_catalog(kind, {"a": MemoryDataset(3)})
        )
        assert loaded(result) == DIAMOND_OUTPUTS

    @pytest.mark.parametrize("is_async", [False, True])
    def test_is_async(self, is_async):
        for kind in ("sequential", "parallel"):
            runner = make_runner(kind, is_async=is_async)
            pipe = diamond().only_nodes("inc", "double", "square", "total")
            result = runner.run(pipe, make_catalog(kind, {"a": MemoryDataset(3)}))
            assert loaded(result) == {"e": 24}


# ------------------------------------------------------------ nested runs


def run_inner_pipeline(x: int) -> int:
    """A node that runs a pipeline of its own, with a sync call."""
    inner = Pipeline([node(add_one, "i", "o", name="inner")])
    result = SequentialRunner().run(inner, DataCatalog({"i": MemoryDataset(x)}))
    return result["o"].load()


class TestNestedRuns:
    def test_run_inside_a_node(self, kind):
        pipe = Pipeline([node(run_inner_pipeline, "a", "b", name="outer")])
        result = make_runner(kind).run(
            pipe, make_catalog(kind, {"a": MemoryDataset(1)})
        )
        assert result["b"].load() == 2

    @pytest.mark.anyio
    async def test_run_inside_a_node_under_arun(self, kind):
        pipe = Pipeline([node(run_inner_pipeline, "a", "b", name="outer")])
        result = await make_runner(kind).arun(
            pipe, make_catalog(kind, {"a": MemoryDataset(1)})
        )
        assert result["b"].load() == 2


# ------------------------------------------------------- ParallelRunner results


def test_parallel_results_outlive_the_runner():
    runner = ParallelRunner()
    result = runner.run(diamond(), make_catalog("parallel", {"a": MemoryDataset(3)}))
    del runner
    gc.collect()
    assert loaded(result) == DIAMOND_OUTPUTS


# --------------------------------------------------------------------- Task


class TestTask:
    @pytest.fixture
    def catalog(self) -> DataCatalog:
        return DataCatalog({"a": MemoryDataset(1), "b": MemoryDataset()})

    def test_execute_runs_the_node_with_hooks(self, catalog):
        recorder = HookRecorder()
        inc = node(add_one, "a", "b", name="inc")
        task = Task(
            inc, catalog, is_async=False, hook_manager=hook_manager_with(recorder)
        )

        assert task.execute() is inc

        assert catalog.load("b") == 2
        assert recorder.trail() == [
            ("before_dataset_loaded", "a"),
            ("after_dataset_loaded", "a"),
            ("before_node_run", "inc"),
            ("after_node_run", "inc"),
            ("before_dataset_saved", "b"),
            ("after_dataset_saved", "b"),
        ]

    def test_call_is_execute(self, catalog):
        inc = node(add_one, "a", "b", name="inc")
        task = Task(inc, catalog, is_async=False, hook_manager=hook_manager_with())
        assert task() is inc
        assert catalog.load("b") == 2

    def test_without_hook_manager_raises_task_error(self, catalog):
        task = Task(node(add_one, "a", "b", name="inc"), catalog, is_async=False)
        with pytest.raises(
            TaskError,
            match=re.escape(
                "No hook_manager provided. This is only allowed when running a "
                "``Task`` with ``ParallelRunner``."
            ),
        ):
            task.execute()
        assert not catalog.exists("b")

    def test_parallel_task_needs_no_hook_manager(self, catalog):
        task = Task(
            node(add_one, "a", "b", name="inc"), catalog, is_async=False, parallel=True
        )
        task.execute()
        assert catalog.load("b") == 2

    def test_is_async_loads_and_saves(self, catalog):
        recorder = HookRecorder()
        task = Task(
            node(add, ["a", "a"], "b", name="twice"),
            catalog,
            is_async=True,
            hook_manager=hook_manager_with(recorder),
        )
        task.execute()
        assert catalog.load("b") == 2
        assert {c.kwargs["is_async"] for c in recorder.of("before_node_run")} == {True}

    def test_is_async_rejects_generator_nodes(self, catalog):
        gen = node(count_to, "a", "b", name="gen")
        task = Task(gen, catalog, is_async=True, hook_manager=hook_manager_with())
        with pytest.raises(
            ValueError,
            match=re.escape(
                "Async data loading and saving does not work with nodes wrapping "
                "generator functions. Please make sure you don't use `yield` "
                f"anywhere in node {gen!s}."
            ),
        ):
            task.execute()

    def test_node_exception_propagates_with_on_node_error(self, catalog):
        recorder = HookRecorder()
        task = Task(
            node(fail, "a", "b", name="bad"),
            catalog,
            is_async=False,
            hook_manager=hook_manager_with(recorder),
        )
        with pytest.raises(NodeFailure) as excinfo:
            task.execute()
        assert recorder.of("on_node_error")[0].kwargs["error"] is excinfo.value

    def test_async_node(self, catalog):
        task = Task(
            node(async_square, "a", "b", name="square"),
            catalog,
            is_async=False,
            hook_manager=hook_manager_with(),
        )
        task.execute()
        assert catalog.load("b") == 1

    def test_execute_inside_a_running_loop(self, catalog):
        async def main():
            Task(
                node(add_one, "a", "b", name="inc"),
                catalog,
                is_async=False,
                hook_manager=hook_manager_with(),
            ).execute()

        asyncio.run(main())
        assert catalog.load("b") == 2

    def test_confirms(self):
        log: list[tuple[Any, ...]] = []
        catalog = DataCatalog(
            {
                "a": MemoryDataset(1),
                "b": MemoryDataset(),
                "ledger": StoreDataset("ledger", {}, log),
            }
        )
        Task(
            node(add_one, "a", "b", name="inc", confirms="ledger"),
            catalog,
            is_async=False,
            hook_manager=hook_manager_with(),
        ).execute()
        assert log == [("confirm", "ledger")]
