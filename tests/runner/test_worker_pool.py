"""Warm worker processes: reuse, the pool's cap, and every lifetime rule.

Each rule is checked on real processes: which pid ran a node, which pids are
alive afterwards (psutil), what is left in the side-channel folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import anyio
import psutil
import pytest

from dagloop._workers.pool import default_pool
from dagloop.io import DataCatalog, MemoryDataset, SharedMemoryDataCatalog
from dagloop.pipeline import Pipeline, node
from dagloop.runner import (
    NodeTimeoutError,
    ParallelRunner,
    SequentialRunner,
    ThreadRunner,
    WorkerPool,
    WorkerProcessError,
)
from tests.runner import _worker_nodes as w
from tests.runner._nodes import current_pid
from tests.runner._reliability_nodes import (
    GUARD,
    count_at_barrier,
    process_counter,
    process_gone,
    read_pid,
    spin_forever,
    wait_for_marker,
)

REPO = Path(__file__).resolve().parents[2]


def pid_pipeline(name: str = "pid") -> Pipeline:
    return Pipeline([node(current_pid, "a", "pid", name=name, executor="process")])


def pid_of_run(runner, catalog=None) -> int:
    result = runner.run(pid_pipeline(), catalog or DataCatalog({"a": MemoryDataset(1)}))
    return result["pid"].load()


def wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + GUARD
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return process_gone(pid)


class TestWarmByDefault:
    def test_runs_reuse_the_default_pools_worker(self):
        first = pid_of_run(SequentialRunner())
        assert first != os.getpid()
        assert pid_of_run(ThreadRunner()) == first
        assert first in default_pool().worker_pids(idle_only=True)

    @pytest.mark.anyio
    async def test_arun_on_every_backend_reuses_what_run_started(self):
        started = await anyio.to_thread.run_sync(pid_of_run, SequentialRunner())
        result = await SequentialRunner().arun(
            pid_pipeline(), DataCatalog({"a": MemoryDataset(1)})
        )
        assert result["pid"].load() == started

    def test_runs_in_other_threads_share_the_pool(self):
        with WorkerPool(max_workers=1) as pool:
            pids: list[int] = []
            threads = [
                threading.Thread(
                    target=lambda: pids.append(pid_of_run(ThreadRunner(pool=pool)))
                )
                for _ in range(4)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(GUARD)
            assert len(pids) == 4
            assert len(set(pids)) == 1  # one worker, reused by every thread's run
            assert pool.worker_pids() == set(pids)


class TestTheCap:
    def test_concurrent_runs_together_never_exceed_the_pool(self):
        # Three runs at once, each allowed two processes, on a pool of two: every
        # node waits at a barrier for one other node, so exactly two run at once.
        with WorkerPool(max_workers=2) as pool, process_counter(2) as (ref, state, _):
            pipe = Pipeline(
                [
                    node(count_at_barrier, ["ref", "a"], f"out{i}", name=f"n{i}")
                    for i in range(2)
                ]
            )

            def one_run() -> None:
                catalog = SharedMemoryDataCatalog(
                    {"ref": MemoryDataset(ref), "a": MemoryDataset(1)}
                )
                ParallelRunner(max_workers=2, pool=pool).run(pipe, catalog)

            threads = [threading.Thread(target=one_run) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(GUARD)
            assert state["peak"] == 2
            assert len(pool.worker_pids()) <= 2

    def test_a_run_keeps_to_its_own_max_workers(self):
        with WorkerPool(max_workers=4) as pool, process_counter(1) as (ref, state, _):
            pipe = Pipeline(
                [
                    node(count_at_barrier, ["ref", "a"], f"out{i}", name=f"n{i}")
                    for i in range(4)
                ]
            )
            catalog = SharedMemoryDataCatalog(
                {"ref": MemoryDataset(ref), "a": MemoryDataset(1)}
            )
            result = ParallelRunner(max_workers=1, pool=pool).run(pipe, catalog)
            assert state["peak"] == 1
            assert len({result[f"out{i}"].load() for i in range(4)}) == 1

    def test_the_default_pool_grows_for_a_run_that_asks_for_more(self):
        wanted = (os.cpu_count() or 1) + 2
        ParallelRunner(max_workers=wanted).run(
            Pipeline([node(current_pid, "a", f"pid{i}") for i in range(wanted)]),
            SharedMemoryDataCatalog({"a": MemoryDataset(1)}),
        )
        assert default_pool().max_workers >= wanted

    def test_a_pool_of_your_own_keeps_its_size(self):
        with WorkerPool(max_workers=1) as pool:
            ParallelRunner(max_workers=3, pool=pool).run(
                Pipeline([node(current_pid, "a", f"p{i}") for i in range(3)]),
                SharedMemoryDataCatalog({"a": MemoryDataset(1)}),
            )
            assert pool.max_workers == 1
            assert len(pool.worker_pids()) == 1


class TestLifetime:
    def test_idle_workers_are_reaped_after_the_idle_timeout(self):
        with WorkerPool(idle_timeout=0.2) as pool:
            pid = pid_of_run(SequentialRunner(pool=pool))
            reaper = pool._reaper
            assert reaper is not None
            assert reaper.name == "dagloop-worker-reaper"
            assert wait_gone(pid)
            assert pool.worker_pids() == set()
            reaper.join(GUARD)
            assert not reaper.is_alive()  # it ends once nothing is idle

    def test_the_next_call_after_reaping_starts_a_fresh_worker(self):
        with WorkerPool(idle_timeout=0.2) as pool:
            first = pid_of_run(SequentialRunner(pool=pool))
            assert wait_gone(first)
            second = pid_of_run(SequentialRunner(pool=pool))
            assert second != first
            assert pool.worker_pids() == {second}

    def test_a_timed_out_node_takes_its_worker_and_a_fresh_one_follows(self, tmp_path):
        marker = str(tmp_path / "spin")
        with WorkerPool() as pool:
            pipe = Pipeline(
                [
                    node(
                        spin_forever,
                        "marker",
                        "never",
                        name="spins",
                        executor="process",
                        timeout=0.5,
                    )
                ]
            )
            with pytest.raises(NodeTimeoutError):
                SequentialRunner(pool=pool).run(
                    pipe, DataCatalog({"marker": MemoryDataset(marker)})
                )
            spun = read_pid(marker)
            assert process_gone(spun)
            fresh = pid_of_run(SequentialRunner(pool=pool))
            assert fresh != spun

    def test_a_killed_workers_folder_goes_with_it(self, tmp_path):
        # Big buffers of a call go through the worker's own folder: whatever an
        # interrupted call left there is removed with the worker.
        marker = str(tmp_path / "spin")
        big = b"x" * (2 << 20)  # out of band: through the folder
        with WorkerPool() as pool:
            pid = pid_of_run(SequentialRunner(pool=pool))
            folder = Path(pool.folder) / f"worker-{pid}"
            assert folder.is_dir()
            pipe = Pipeline(
                [
                    node(
                        spin_forever,
                        ["marker", "big"],
                        "never",
                        name="spins",
                        executor="process",
                        timeout=0.5,
                    )
                ]
            )
            catalog = DataCatalog(
                {"marker": MemoryDataset(marker), "big": MemoryDataset(big)}
            )
            with pytest.raises(NodeTimeoutError):
                SequentialRunner(pool=pool).run(pipe, catalog)
            assert read_pid(marker) == pid  # the warm worker took the call
            assert wait_gone(pid)
            assert not folder.exists()
            assert [p for p in Path(pool.folder).rglob("*") if p.is_file()] == []

    def test_stopping_a_busy_worker_ends_its_call_with_a_clear_error(self, tmp_path):
        # stop_workers() from another thread only kills a busy worker: the run
        # talking to it sees its pipes end (no wait on a closed descriptor).
        marker = str(tmp_path / "spin")
        errors: list[BaseException] = []
        pipe = Pipeline(
            [node(spin_forever, "marker", "never", name="spins", executor="process")]
        )

        def run() -> None:
            try:
                SequentialRunner(pool=pool).run(
                    pipe, DataCatalog({"marker": MemoryDataset(marker)})
                )
            except BaseException as exc:
                errors.append(exc)

        with WorkerPool() as pool:
            thread = threading.Thread(target=run)
            thread.start()
            wait_for_marker(marker)
            pid = read_pid(marker)
            pool.stop_workers()
            thread.join(GUARD)
            assert not thread.is_alive()
            assert wait_gone(pid)
        (error,) = errors
        assert isinstance(error, WorkerProcessError)
        assert "'spins'" in str(error)

    def test_a_worker_killed_while_idle_is_replaced(self):
        with WorkerPool() as pool:
            first = pid_of_run(SequentialRunner(pool=pool))
            os.kill(first, signal.SIGKILL)
            assert wait_gone(first) or psutil.Process(first).status() == "zombie"
            second = pid_of_run(SequentialRunner(pool=pool))
            assert second != first

    def test_a_worker_dying_mid_node_names_the_node(self):
        with WorkerPool() as pool:
            pipe = Pipeline(
                [node(w.kill_myself, "a", "b", name="dies", executor="process")]
            )
            with pytest.raises(WorkerProcessError, match=r"'dies'.*SIGKILL"):
                SequentialRunner(pool=pool).run(
                    pipe, DataCatalog({"a": MemoryDataset(1)})
                )
            assert pool.worker_pids() == set()

    def test_max_tasks_per_worker_gives_fresh_workers(self):
        with WorkerPool(max_tasks_per_worker=1) as pool:
            first = pid_of_run(SequentialRunner(pool=pool))
            second = pid_of_run(SequentialRunner(pool=pool))
            assert first != second
            assert wait_gone(first)

    def test_close_stops_every_worker_and_refuses_new_runs(self):
        pool = WorkerPool()
        with pool:
            pid = pid_of_run(SequentialRunner(pool=pool))
        assert process_gone(pid)
        with pytest.raises(RuntimeError, match="WorkerPool is closed"):
            pid_of_run(SequentialRunner(pool=pool))

    @pytest.mark.anyio
    async def test_async_with_closes_the_pool(self):
        async with WorkerPool() as pool:
            result = await ThreadRunner(pool=pool).arun(
                pid_pipeline(), DataCatalog({"a": MemoryDataset(1)})
            )
            pid = result["pid"].load()
            assert pool.worker_pids() == {pid}
        assert process_gone(pid)


class TestPreloadAndState:
    def test_preloaded_modules_are_imported_before_the_first_node(self):
        with WorkerPool(preload=["tests.runner._preloaded"]) as pool:
            pipe = Pipeline(
                [node(w.loaded_modules, "a", "mods", name="mods", executor="process")]
            )
            result = SequentialRunner(pool=pool).run(
                pipe, DataCatalog({"a": MemoryDataset(["tests.runner._preloaded"])})
            )
            assert result["mods"].load() == ["tests.runner._preloaded"]

    def test_a_module_that_cannot_be_preloaded_is_named(self):
        with WorkerPool(preload=["no_such_module_here"]) as pool:
            with pytest.raises(RuntimeError, match="no_such_module_here"):
                pid_of_run(SequentialRunner(pool=pool))
            assert pool.worker_pids() == set()

    def test_module_state_persists_in_a_warm_worker(self):
        # Documented: a kept-alive worker keeps what nodes leave in globals.
        with WorkerPool(max_workers=1) as pool:
            pipe = Pipeline(
                [node(w.count_calls_here, "a", "n", name="count", executor="process")]
            )
            runs = [
                SequentialRunner(pool=pool)
                .run(pipe, DataCatalog({"a": MemoryDataset(1)}))["n"]
                .load()
                for _ in range(2)
            ]
            assert runs == [1, 2]

    def test_a_warm_worker_sees_a_later_sys_path_entry(self, tmp_path, monkeypatch):
        with WorkerPool(max_workers=1) as pool:
            before = pid_of_run(SequentialRunner(pool=pool))
            (tmp_path / "late_module.py").write_text("def f(x):\n    return x * 2\n")
            monkeypatch.syspath_prepend(str(tmp_path))
            import late_module  # type: ignore[import-not-found]

            pipe = Pipeline([node(late_module.f, "a", "b", executor="process")])
            result = SequentialRunner(pool=pool).run(
                pipe, DataCatalog({"a": MemoryDataset(21)})
            )
            assert result["b"].load() == 42
            assert pool.worker_pids() == {before}

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"max_workers": 0}, ValueError),
            ({"idle_timeout": 0}, ValueError),
            ({"max_tasks_per_worker": 0}, ValueError),
            ({"preload": "numpy"}, TypeError),
        ],
    )
    def test_bad_settings_are_rejected(self, kwargs, error):
        with pytest.raises(error):
            WorkerPool(**kwargs)

    def test_a_runner_rejects_something_else_as_pool(self):
        with pytest.raises(TypeError, match="WorkerPool"):
            ThreadRunner(pool=4)  # type: ignore[arg-type]


#: Run by the parent-death tests in a subprocess: starts two warm workers (one
#: idle, one spinning in a node), reports their pids and the side-channel folder.
PARENT = """
import json, sys
from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import ParallelRunner, SequentialRunner, WorkerPool
from dagloop.io import SharedMemoryDataCatalog
from tests.runner._nodes import current_pid
from tests.runner._reliability_nodes import spin_forever, write_marker

report, marker = sys.argv[1], sys.argv[2]
pool = WorkerPool(max_workers=2)
two = Pipeline([node(current_pid, "a", "p1"), node(current_pid, "b", "p2")])
out = ParallelRunner(max_workers=2, pool=pool).run(
    two, SharedMemoryDataCatalog({"a": MemoryDataset(1), "b": MemoryDataset(2)})
)
big = b"x" * (4 << 20)  # through the side channel
write_marker(report, json.dumps({"folder": pool.folder, "pids": sorted(pool.worker_pids())}))
SequentialRunner(pool=pool).run(
    Pipeline([node(spin_forever, ["m", "big"], "never", executor="process")]),
    DataCatalog({"m": MemoryDataset(marker), "big": MemoryDataset(big)}),
)
"""


class TestParentDeath:
    def test_sigkill_of_the_parent_ends_every_worker_and_the_folder(self, tmp_path):
        script = tmp_path / "parent.py"
        script.write_text(textwrap.dedent(PARENT))
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")]),
        }
        report, marker = tmp_path / "report.json", tmp_path / "spinning"
        parent = subprocess.Popen(
            [sys.executable, str(script), str(report), str(marker)], env=env, cwd=REPO
        )
        try:
            info = json.loads(wait_for_marker(report))
            spinning = int(wait_for_marker(marker))
            assert spinning in info["pids"]
            assert Path(info["folder"]).is_dir()
            parent.kill()  # SIGKILL: no atexit, no finally, nothing runs
            parent.wait(GUARD)
            for pid in info["pids"]:
                assert wait_gone_or_zombie(pid), f"worker {pid} outlived its parent"
            assert not Path(info["folder"]).exists()
        finally:
            if parent.poll() is None:
                parent.kill()
                parent.wait()


def wait_gone_or_zombie(pid: int) -> bool:
    """Orphans are reaped by init, which in a container may never reap them."""
    deadline = time.monotonic() + GUARD
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.01)
    return False
