"""DaskRunner (issue 11) on real clusters: a LocalCluster of two worker
processes, a scheduler and two workers started with ``dask`` on 127.0.0.1, and
a LocalCluster the runner starts itself."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings

from dagloop.io import DataCatalog, MemoryDataset, PickleDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import (
    DaskRunner,
    NodeTimeoutError,
    RunEvent,
    SequentialRunner,
    WorkerProcessError,
)
from tests.dask._nodes import (
    NodeFailure,
    WhoDoesIO,
    add,
    die,
    fail,
    flaky,
    make_big,
    measure,
    nap,
    numbered,
    split,
    total_on_worker,
    where,
)
from tests.runner.test_load_and_equivalence import dags, evaluate, run_dag

pytestmark = pytest.mark.timeout(180)


def diamond() -> Pipeline:
    return Pipeline(
        [
            node(split, "a", ["low", "high"], name="split"),
            node(add, ["low", "high"], "total", name="add"),
            node(where, "total", "placed", name="where"),
        ]
    )


def scheduler_tasks(client: Any) -> list[str]:
    """The keys the scheduler still holds."""
    return list(
        client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.tasks))
    )


# ------------------------------------------------------------- the contract


def test_sync_nodes_run_as_tasks_on_the_workers(local_client):
    events: list[RunEvent] = []
    outputs = DaskRunner(client=local_client).run(
        diamond(), DataCatalog({"a": MemoryDataset(2)}), on_event=events.append
    )
    placed = outputs["placed"].load()
    assert placed["x"] == 2 + 20
    assert placed["pid"] != os.getpid()
    workers = set(local_client.scheduler_info()["workers"])
    assert placed["worker"] in workers
    finished = {e.node: e for e in events if e.kind == "node_finished"}
    assert {e.placement for e in finished.values()} == {"dask"}
    assert finished["where"].worker == placed["worker"]
    assert set(outputs) == {"placed"}
    # The caller's client is left open, and the run's futures are gone from it.
    assert local_client.status == "running"
    assert scheduler_tasks(local_client) == []


@pytest.mark.parametrize("is_async", [False, True])
def test_intermediate_data_stays_on_the_cluster(local_client, is_async):
    # make_big's value cannot be unpickled in this process: the run works only
    # if it goes from worker to worker.
    pipe = Pipeline(
        [
            node(make_big, "parent_pid", "big", name="make_big"),
            node(measure, "big", "size", name="measure"),
        ]
    )
    outputs = DaskRunner(client=local_client, is_async=is_async).run(
        pipe, DataCatalog({"parent_pid": MemoryDataset(os.getpid())})
    )
    assert outputs["size"].load() == 20_000_000


def test_the_parent_saves_persistent_datasets_and_runs_async_nodes(
    local_client, tmp_path
):
    async def on_the_loop(placed: dict[str, Any]) -> dict[str, Any]:
        return {"node_pid": placed["pid"], "loop_pid": os.getpid()}

    pipe = diamond() + Pipeline([node(on_the_loop, "placed", "report", name="report")])
    catalog = DataCatalog(
        {
            "a": MemoryDataset(1),
            "total": PickleDataset(filepath=str(tmp_path / "total.pkl")),
        }
    )
    outputs = DaskRunner(client=local_client).run(pipe, catalog)
    assert PickleDataset(filepath=str(tmp_path / "total.pkl")).load() == 11
    report = outputs["report"].load()
    assert report["loop_pid"] == os.getpid()
    assert report["node_pid"] != os.getpid()


@pytest.mark.parametrize("workers_do_io", [False, True])
def test_who_loads_and_saves_persistent_datasets(local_client, tmp_path, workers_do_io):
    import pickle

    log = tmp_path / "io.log"
    (tmp_path / "in.pkl").write_bytes(pickle.dumps(5))
    catalog = DataCatalog(
        {
            "source": WhoDoesIO(str(tmp_path / "in.pkl"), str(log)),
            "result": WhoDoesIO(str(tmp_path / "out.pkl"), str(log)),
        }
    )
    pipe = Pipeline([node(split, "source", ["low", "high"], name="split"),
                     node(add, ["low", "high"], "result", name="add")])  # fmt: skip
    DaskRunner(client=local_client, workers_do_io=workers_do_io).run(pipe, catalog)
    assert pickle.loads((tmp_path / "out.pkl").read_bytes()) == 55
    done = [line.split() for line in log.read_text().splitlines()]
    assert [what for what, _ in done] == ["load", "save"]
    in_parent = {int(pid) == os.getpid() for _, pid in done}
    assert in_parent == {not workers_do_io}  # the parent, or the workers, did both


def test_a_nodes_exception_is_reraised_naming_the_node(local_client):
    import traceback

    import dask

    pipe = Pipeline([node(fail, "a", "b", name="broken")])
    with pytest.raises(NodeFailure, match="failed on 1") as raised:
        DaskRunner(client=local_client).run(pipe, DataCatalog({"a": MemoryDataset(1)}))
    assert any("node 'broken'" in note for note in raised.value.__notes__)
    # With the worker's traceback: the node function's own frame is in it.
    frames = traceback.extract_tb(raised.value.__traceback__)
    assert any(frame.name == "fail" for frame in frames)
    # The run changed no global Dask setting (the default scheduler).
    assert dask.config.get("scheduler", None) is None


def test_retries_timeouts_and_hooks_behave_as_on_other_runners(local_client, tmp_path):
    from tests.runner._nodes import HookRecorder, hook_manager_with

    counter = tmp_path / "calls"
    recorder = HookRecorder()
    pipe = Pipeline([node(flaky, "counter", "calls", name="flaky", retries=2)])
    outputs = DaskRunner(client=local_client).run(
        pipe,
        DataCatalog({"counter": MemoryDataset(str(counter))}),
        hook_manager=hook_manager_with(recorder),
    )
    assert outputs["calls"].load() == 3
    assert [c.subject for c in recorder.of("after_node_run")] == ["flaky"]

    slow = Pipeline([node(nap, "seconds", "slept", name="slow", timeout=0.5)])
    with pytest.raises(NodeTimeoutError, match="'slow'"):
        DaskRunner(client=local_client).run(
            slow, DataCatalog({"seconds": MemoryDataset(60)})
        )
    assert scheduler_tasks(local_client) == []  # its task was cancelled


def test_cancelling_arun_cancels_the_runs_futures(local_client):
    pipe = Pipeline([node(nap, "seconds", "slept", name="slow")])

    async def main() -> list[str]:
        with anyio.move_on_after(1.0):
            await DaskRunner(client=local_client).arun(
                pipe, DataCatalog({"seconds": MemoryDataset(60)})
            )
        return scheduler_tasks(local_client)

    assert anyio.run(main) == []


def test_only_missing_outputs_and_tag_limits(local_client, tmp_path):
    events: list[RunEvent] = []
    pipe = Pipeline(
        [node(nap, "seconds", f"out{i}", name=f"n{i}", tags=["api"]) for i in range(4)]
    )
    DaskRunner(client=local_client, limits={"api": 1}).run(
        pipe, DataCatalog({"seconds": MemoryDataset(0.05)}), on_event=events.append
    )
    running = most = 0
    for event in events:
        running += {"node_started": 1, "node_finished": -1}.get(event.kind, 0)
        most = max(most, running)
    assert most == 1

    catalog = DataCatalog(
        {"a": MemoryDataset(1)}
        | {x: PickleDataset(filepath=str(tmp_path / f"{x}.pkl")) for x in "bc"}
    )
    two = Pipeline(
        [node(add, ["a", "a"], "b", name="first"), node(where, "b", "c", name="second")]
    )
    DaskRunner(client=local_client).run(two, catalog)
    (tmp_path / "c.pkl").unlink()  # b exists: only 'second' runs
    ran: list[RunEvent] = []
    DaskRunner(client=local_client).run(
        two, catalog, only_missing_outputs=True, on_event=ran.append
    )
    assert [e.node for e in ran if e.kind == "node_started"] == ["second"]


def test_trio_is_refused_before_any_node_runs(local_client):
    import trio

    ran: list[int] = []
    pipe = Pipeline([node(ran.append, "a", None, name="one")])

    async def main() -> None:
        await DaskRunner(client=local_client).arun(
            pipe, DataCatalog({"a": MemoryDataset(1)})
        )

    with pytest.raises(RuntimeError, match="DaskRunner needs asyncio"):
        trio.run(main)
    assert ran == []


def test_a_dead_worker_gives_a_clear_error_not_a_hang():
    # Its own cluster: the workers die. Dask retries the task on another worker
    # until its allowed failures are used up, then the run fails, naming the node.
    pipe = Pipeline([node(die, "a", "b", name="crash")])
    with pytest.raises(WorkerProcessError, match="'crash'"):
        DaskRunner(n_workers=2).run(pipe, DataCatalog({"a": MemoryDataset(1)}))


# ------------------------------------------------------------ other clusters


def test_a_scheduler_and_workers_started_with_dasks_command_line(cli_scheduler):
    outputs = DaskRunner(address=cli_scheduler).run(
        diamond(), DataCatalog({"a": MemoryDataset(3)})
    )
    placed = outputs["placed"].load()
    assert placed["x"] == 33
    assert placed["worker"].startswith("tcp://127.0.0.1:")
    assert placed["pid"] != os.getpid()


def test_an_asynchronous_client_on_the_callers_loop_is_used_as_it_is(cli_scheduler):
    from distributed import Client

    async def main() -> tuple[dict[str, Any], str]:
        async with Client(cli_scheduler, asynchronous=True) as client:
            outputs = await DaskRunner(client=client).arun(
                diamond(), DataCatalog({"a": MemoryDataset(1)})
            )
            return outputs["placed"].load(), client.status

    placed, status = anyio.run(main)
    assert placed["x"] == 11
    assert status == "running"  # still open inside the block: the caller's


def test_the_runners_own_local_cluster_is_gone_after_the_run():
    # Its worker processes and nannies are gone once run() returns (what stays
    # is multiprocessing's resource tracker, which lives as long as the process).
    code = (
        "import psutil, os\n"
        "from dagloop.io import DataCatalog, MemoryDataset\n"
        "from dagloop.pipeline import Pipeline, node\n"
        "from dagloop.runner import DaskRunner\n"
        "from tests.dask._nodes import where\n"
        "if __name__ == '__main__':\n"
        "    out = DaskRunner(n_workers=2).run(Pipeline([node(where, 'a', 'b', name='w')]),"
        " DataCatalog({'a': MemoryDataset(1)}))\n"
        "    left = [p for p in psutil.Process().children(recursive=True)\n"
        "            if 'resource_tracker' not in ' '.join(p.cmdline())]\n"
        "    print(out['b'].load()['pid'] != os.getpid(), len(left))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=os.getcwd(),
    )
    assert done.stdout.split() == ["True", "0"]


class TestRandomDagsMatchSequentialRunner:
    """The randomized equivalence test of tests/runner, with DaskRunner: nodes
    on the cluster, on the loop, inline, in threads and in local processes,
    their data crossing between the cluster and the parent."""

    @pytest.mark.anyio
    @settings(
        max_examples=8,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
        ],
    )
    @given(dag=dags())
    async def test_same_outputs(self, local_client, dag):
        spec, values = dag
        with anyio.fail_after(120):
            reference, reference_outputs = await run_dag(
                "sequential", spec, values, SequentialRunner()
            )
            saves, outputs = await run_dag(
                "thread", spec, values, DaskRunner(client=local_client)
            )
        assert reference == {name: [v] for name, v in evaluate(spec, values).items()}
        assert saves == reference
        assert outputs == reference_outputs


def test_same_outputs_as_sequential_runner(local_client):
    catalog = {"a": 4}
    reference = SequentialRunner().run(
        diamond(), DataCatalog({k: MemoryDataset(v) for k, v in catalog.items()})
    )
    outputs = DaskRunner(client=local_client).run(
        diamond(), DataCatalog({k: MemoryDataset(v) for k, v in catalog.items()})
    )
    assert outputs["placed"].load()["x"] == reference["placed"].load()["x"]


def test_a_stream_read_by_a_dask_task_arrives_collected(local_client):
    # The producer streams on the parent's loop; the task on a worker gets the
    # items as a list (they cannot cross to a worker one by one).
    pipe = Pipeline(
        [
            node(numbered, "n", "items", name="producer"),
            node(total_on_worker, "items", "total", name="total"),
        ]
    )
    outputs = DaskRunner(client=local_client).run(
        pipe, DataCatalog({"n": MemoryDataset(10)})
    )
    result = outputs["total"].load()
    assert result["total"] == 45
    assert result["type"] == "list"
    assert result["pid"] != os.getpid()
