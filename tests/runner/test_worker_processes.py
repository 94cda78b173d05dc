"""The worker-process boundary: what comes back when a process node's outcome
cannot travel, and what a worker's death, logs and children look like.

Every failure names the node and says what to change; none kills the worker's
protocol or hides the node's own message.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import (
    NodeTimeoutError,
    ProcessTransferError,
    SequentialRunner,
    WorkerPool,
    WorkerProcessError,
)
from tests.runner import _worker_nodes as w
from tests.runner._reliability_nodes import child_pids, process_gone

REPO = Path(__file__).resolve().parents[2]


def run_in_process(func, x=1, pool=None, **node_kwargs):
    pipe = Pipeline(
        [node(func, "x", "y", name="in_worker", executor="process", **node_kwargs)]
    )
    catalog = DataCatalog({"x": MemoryDataset(x)})
    return SequentialRunner(pool=pool).run(pipe, catalog)


class TestExceptionsThatCannotTravel:
    def test_an_exception_that_pickles_but_cannot_unpickle(self):
        with pytest.raises(RuntimeError) as excinfo:
            run_in_process(w.raise_two_argument_error)
        message = str(excinfo.value)
        assert "'in_worker'" in message
        assert "TwoArgumentError" in message
        assert "the real problem" in message  # the node's own words survive

    @pytest.mark.parametrize(
        ("func", "shown"),
        [
            (w.raise_keyboard_interrupt, "KeyboardInterrupt"),
            (w.raise_system_exit, "SystemExit"),
        ],
    )
    def test_interrupt_and_exit_in_node_code_do_not_end_the_parent(self, func, shown):
        with pytest.raises(RuntimeError) as excinfo:
            run_in_process(func)
        assert "'in_worker'" in str(excinfo.value)
        assert shown in str(excinfo.value)

    def test_a_result_that_cannot_be_rebuilt_in_the_parent(self):
        with pytest.raises(ProcessTransferError) as excinfo:
            run_in_process(w.return_unloadable)
        message = str(excinfo.value)
        assert "'in_worker'" in message
        assert "this value cannot be rebuilt" in message
        assert "executor='thread'" in message  # the fix


class TestLogs:
    def test_an_unpicklable_extra_reaches_the_parent_as_text(self, caplog):
        caplog.set_level(logging.WARNING, logger="tests.worker_nodes")
        result = run_in_process(w.log_unpicklable_extra, x=7)
        assert result["y"].load() == 7
        [record] = [r for r in caplog.records if r.name == "tests.worker_nodes"]
        assert record.getMessage() == "with a lock attached"
        assert "lock" in repr(record.lock)
        assert record.process != os.getpid()

    def test_a_malformed_log_call_does_not_fail_the_node(self, capfd):
        # As with logging anywhere else: reported on stderr, the call goes on. A
        # worker writes to the stderr its parent had when it started: a fresh
        # pool's worker starts inside this test, with capfd's.
        with WorkerPool() as pool:
            result = run_in_process(w.log_badly, x=5, pool=pool)
        assert result["y"].load() == 5
        err = capfd.readouterr().err
        assert "--- Logging error ---" in err
        assert "two placeholders, one argument" in err


class TestScriptsAndWorkers:
    def run_script(self, tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
        script = tmp_path / "job.py"
        script.write_text(textwrap.dedent(code))
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        return subprocess.run(
            [sys.executable, str(script)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,
            check=False,
        )

    def test_classes_of_the_main_script_travel_both_ways(self, tmp_path):
        done = self.run_script(
            tmp_path,
            """
            from dataclasses import dataclass
            from dagloop.io import DataCatalog, MemoryDataset
            from dagloop.pipeline import Pipeline, node
            from dagloop.runner import SequentialRunner

            @dataclass
            class Point:
                x: int
                y: int

            class ScriptError(Exception):
                pass

            def make_point(x):
                return Point(x, x + 1)

            def fail(point):
                raise ScriptError(f"bad point {point}")

            if __name__ == "__main__":
                catalog = DataCatalog({"x": MemoryDataset(1)})
                pipe = Pipeline([node(make_point, "x", "p", executor="process")])
                out = SequentialRunner().run(pipe, catalog)["p"].load()
                print("point", type(out).__name__, out.x, out.y, type(out) is Point)
                pipe = Pipeline([node(fail, "x", "q", executor="process")])
                try:
                    SequentialRunner().run(pipe, DataCatalog({"x": MemoryDataset(2)}))
                except ScriptError as exc:
                    print("error", type(exc).__name__, exc)
            """,
        )
        assert done.returncode == 0, done.stderr
        assert "point Point 1 2 True" in done.stdout
        assert "error ScriptError bad point 2" in done.stdout

    def test_a_function_of_a_main_module_without_a_file(self):
        code = textwrap.dedent(
            """
            from dagloop.io import DataCatalog, MemoryDataset
            from dagloop.pipeline import Pipeline, node
            from dagloop.runner import ProcessTransferError, SequentialRunner

            def twice(x):
                return 2 * x

            pipe = Pipeline([node(twice, "x", "y", name="twice", executor="process")])
            try:
                SequentialRunner().run(pipe, DataCatalog({"x": MemoryDataset(1)}))
            except ProcessTransferError as exc:
                print("transfer error:", exc)
            """
        )
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert "transfer error: Node 'twice'" in done.stdout
        assert "importable module" in done.stdout


class TestWorkerLifetime:
    def test_a_worker_leads_its_own_session(self):
        # So a Ctrl-C typed in the terminal reaches the parent alone.
        pid, session = run_in_process(w.session_of_worker)["y"].load()
        assert pid != os.getpid()
        assert session == pid
        assert session != os.getsid(0)

    def test_a_timed_out_worker_takes_the_processes_it_started_with_it(self, tmp_path):
        pid_file = tmp_path / "child.pid"
        before = child_pids()
        pipe = Pipeline(
            [
                node(
                    w.spawn_then_hang,
                    "pid_file",
                    "y",
                    name="spawner",
                    executor="process",
                    timeout=2,
                )
            ]
        )
        catalog = DataCatalog({"pid_file": MemoryDataset(str(pid_file))})
        with pytest.raises(NodeTimeoutError, match="spawner"):
            SequentialRunner().run(pipe, catalog)
        grandchild = int(pid_file.read_text())
        deadline = time.monotonic() + 10
        while not process_gone(grandchild) and time.monotonic() < deadline:
            time.sleep(0.02)  # the kill is sent; init reaps the orphan
        assert process_gone(grandchild)
        assert child_pids() <= before

    def test_a_dead_worker_is_reported_with_its_signal(self):
        with pytest.raises(WorkerProcessError) as excinfo:
            run_in_process(w.kill_myself)
        message = str(excinfo.value)
        assert "'in_worker'" in message
        assert "SIGKILL" in message
