"""Stopping a run from outside: the caller's cancellation, ``timeout=``, Ctrl-C.

Each scenario has a node of each kind in flight when the run is stopped (an
``async def`` node awaiting forever, a process node spinning, a thread node
blocked) after a first node saved a JSON file. Afterwards the test checks, by
observation:

* the coroutine was cancelled (it saw the cancellation exception);
* the worker process was killed and reaped (its pid no longer exists; no new child
  process of the test is left, zombie or not);
* no thread dagloop started outlives the call except the one still inside the
  blocked node function (the documented exception) and thread-pool workers that
  are idle by design (their stacks hold only pool code);
* the output saved before the stop is on disk, with no temporary file left;
* the blocked thread's result, once it returns, is discarded.

Ctrl-C is tested in a child process (a SIGINT to the test runner itself would
stop pytest): the child measures when its ``except KeyboardInterrupt`` runs, the
parent when it sent the signal.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import psutil
import pytest

from dagloop.io import JSONDataset, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import RunTimeoutError, WorkerPool
from tests.runner._nodes import (
    RecordingDataset,
    current_pid,
    identity,
    make_catalog,
    make_runner,
)
from tests.runner._reliability_nodes import (
    GUARD,
    Blocker,
    Forever,
    child_pids,
    extra_threads,
    idle_pool_thread,
    listing,
    process_gone,
    read_pid,
    spin_forever,
    wait_for_marker,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[2]
SAVED = {"saved": "before the stop"}

#: Which nodes are in flight when the run is stopped: all three kinds at once for
#: the concurrent runners, one at a time for SequentialRunner.
SCENARIOS = [
    pytest.param("thread", ("async", "process", "thread"), id="thread-all"),
    pytest.param("parallel", ("async", "process", "thread"), id="parallel-all"),
    pytest.param("sequential", ("async",), id="sequential-async"),
    pytest.param("sequential", ("process",), id="sequential-process"),
    pytest.param("sequential", ("thread",), id="sequential-thread"),
]


class Blocked:
    """A run with nodes of some kinds blocked in flight, and what it leaves."""

    def __init__(self, runner_kind: str, kinds: tuple[str, ...], tmp_path: Path):
        self.runner_kind = runner_kind
        self.kinds = kinds
        self.out_dir = tmp_path / "out"
        self.out_dir.mkdir()
        self.markers = tmp_path / "markers"
        self.markers.mkdir()
        self.forever = Forever()
        self.blocker = Blocker()
        self.log: list[tuple[Any, ...]] = []
        self.after_ran: list[str] = []
        self.threads_before = set(threading.enumerate())
        self.children_before = child_pids()

    @property
    def process_marker(self) -> Path:
        return self.markers / "process.started"

    def pipeline(self) -> Pipeline:
        def after(*inputs: Any) -> Any:
            self.after_ran.append("after")
            return inputs

        blockers = {
            "async": node(self.forever.wait, "seed", "async_out", name="async_node"),
            "process": node(
                spin_forever,
                ["process_marker", "seed"],
                "process_out",
                name="process_node",
                executor="process",
            ),
            "thread": node(
                self.blocker.block,
                "seed",
                "thread_out",
                name="thread_node",
                executor="thread",
            ),
        }
        return Pipeline(
            [
                node(identity, "a", "seed", name="first", executor="inline"),
                *(blockers[kind] for kind in self.kinds),
                node(
                    after,
                    [f"{kind}_out" for kind in self.kinds],
                    "final",
                    name="after",
                    executor="inline",
                ),
            ]
        )

    def catalog(self) -> Any:
        return make_catalog(
            self.runner_kind,
            {
                "a": MemoryDataset(SAVED),
                "seed": JSONDataset(str(self.out_dir / "seed.json")),
                "process_marker": MemoryDataset(str(self.process_marker)),
                **{
                    f"{kind}_out": RecordingDataset(f"{kind}_out", self.log)
                    for kind in ("async", "process", "thread")
                },
            },
        )

    def all_started(self) -> bool:
        return all(
            {
                "async": lambda: self.forever.started,
                "process": self.process_marker.exists,
                "thread": self.blocker.entered.is_set,
            }[kind]()
            for kind in self.kinds
        )

    async def wait_all_started(self) -> None:
        await wait_until(self.all_started)

    def check_stopped(self) -> None:
        """Everything in flight was stopped; only the blocked thread remains."""
        if "async" in self.kinds:
            assert self.forever.cancelled == 1
        if "process" in self.kinds:
            assert process_gone(read_pid(self.process_marker))
        # Killed workers are reaped: no new child process, not even a zombie.
        assert child_pids() - self.children_before == set()
        extra = extra_threads(self.threads_before)
        if "thread" in self.kinds:
            # The documented exception: the thread is still inside the node.
            (blocked,) = self.blocker.threads
            assert blocked.is_alive()
            assert not self.blocker.returned.is_set()
            extra.discard(blocked)
        others = {t for t in extra if not idle_pool_thread(t)}
        assert others == set(), f"threads left doing something: {others}"
        # The output saved before the stop stays saved, complete.
        assert listing(self.out_dir) == ["seed.json"]
        assert json.loads((self.out_dir / "seed.json").read_text()) == SAVED
        assert self.after_ran == []

    def release_and_check_discarded(self) -> None:
        if "thread" in self.kinds:
            self.blocker.release.set()
            assert self.blocker.returned.wait(GUARD)
        assert [e for e in self.log if e[0] == "save"] == []

    def cleanup(self) -> None:
        self.blocker.release.set()


@pytest.fixture
def blocked_factory(tmp_path: Path) -> Any:
    made: list[Blocked] = []

    def make(runner_kind: str, kinds: tuple[str, ...]) -> Blocked:
        made.append(Blocked(runner_kind, kinds, tmp_path))
        return made[-1]

    yield make
    for blocked in made:
        blocked.cleanup()


def asyncio_tasks() -> set[asyncio.Task[Any]]:
    """The asyncio tasks of this loop."""
    return set(asyncio.all_tasks())


def on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


# ------------------------------------------------------- arun: the caller


class TestArunHonoursTheCaller:
    @pytest.mark.anyio
    @pytest.mark.parametrize(("runner_kind", "kinds"), SCENARIOS)
    async def test_outer_move_on_after(self, runner_kind, kinds, blocked_factory):
        run = blocked_factory(runner_kind, kinds)
        tasks_before = asyncio_tasks() if on_asyncio() else set()
        with anyio.fail_after(GUARD):
            async with anyio.create_task_group() as group:
                deadline = anyio.move_on_after(GUARD)

                async def expire_once_all_started() -> None:
                    await run.wait_all_started()
                    deadline.deadline = anyio.current_time()  # expires now

                group.start_soon(expire_once_all_started)
                with deadline:
                    await make_runner(runner_kind).arun(run.pipeline(), run.catalog())
                    pytest.fail("arun returned although its caller's deadline passed")
        assert deadline.cancelled_caught
        run.check_stopped()
        if on_asyncio():
            assert asyncio_tasks() == tasks_before
        run.release_and_check_discarded()

    @pytest.mark.anyio
    @pytest.mark.parametrize(("runner_kind", "kinds"), SCENARIOS)
    async def test_a_failing_sibling_task(self, runner_kind, kinds, blocked_factory):
        run = blocked_factory(runner_kind, kinds)
        error = RuntimeError("the sibling failed")

        async def sibling() -> None:
            await run.wait_all_started()
            raise error

        with (
            anyio.fail_after(GUARD),
            pytest.RaisesGroup(
                pytest.RaisesExc(RuntimeError, match="sibling")
            ) as group,
        ):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(sibling)
                await make_runner(runner_kind).arun(run.pipeline(), run.catalog())
        # The caller sees its own error only: the run adds none of its own.
        assert group.value.exceptions == (error,)
        run.check_stopped()
        run.release_and_check_discarded()

    @pytest.mark.anyio
    @pytest.mark.parametrize(
        "anyio_backend",
        ["asyncio", pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop")],
    )
    @pytest.mark.parametrize(("runner_kind", "kinds"), SCENARIOS)
    async def test_asyncio_task_cancel(self, runner_kind, kinds, blocked_factory):
        run = blocked_factory(runner_kind, kinds)
        tasks_before = asyncio_tasks()
        task = asyncio.create_task(
            make_runner(runner_kind).arun(run.pipeline(), run.catalog())
        )
        with anyio.fail_after(GUARD):
            await run.wait_all_started()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert task.cancelled()
        run.check_stopped()
        assert asyncio_tasks() == tasks_before
        run.release_and_check_discarded()

    @pytest.mark.anyio
    async def test_the_loop_keeps_ticking_while_a_node_blocks_a_thread(
        self, blocked_factory
    ):
        """Under arun, a blocked thread node never blocks the caller's loop: the
        caller's own task counts ticks while the node is stuck, then cancels."""
        run = blocked_factory("thread", ("thread",))
        ticks = 0
        with anyio.fail_after(GUARD):
            async with anyio.create_task_group() as group:

                async def tick_then_cancel() -> None:
                    nonlocal ticks
                    await run.wait_all_started()
                    for _ in range(100):
                        ticks += 1
                        await anyio.lowlevel.checkpoint()
                    group.cancel_scope.cancel()

                group.start_soon(tick_then_cancel)
                await make_runner("thread").arun(run.pipeline(), run.catalog())
        assert ticks == 100
        run.check_stopped()
        run.release_and_check_discarded()


# ------------------------------------------------ run(timeout=...): the limit


BACKEND_ENV = {
    "asyncio": {"DAGLOOP_BACKEND": "asyncio", "DAGLOOP_UVLOOP": "0"},
    "uvloop": {"DAGLOOP_BACKEND": "asyncio", "DAGLOOP_UVLOOP": "1"},
    "trio": {"DAGLOOP_BACKEND": "trio", "DAGLOOP_UVLOOP": "0"},
}


@pytest.fixture(params=list(BACKEND_ENV))
def own_loop_backend(request: pytest.FixtureRequest, monkeypatch: Any) -> str:
    """The event loop ``run()`` starts for itself: asyncio, uvloop or trio."""
    for name, value in BACKEND_ENV[request.param].items():
        monkeypatch.setenv(name, value)
    return request.param


#: A run-level timeout fires on the clock, whatever the nodes do: the limit must
#: leave time for a worker process to start (several seconds on a busy machine)
#: so that the test sees a process node in flight.
RUN_TIMEOUT = {"async": 0.5, "thread": 0.5, "process": 4.0}


class TestRunTimeout:
    @pytest.mark.parametrize(("runner_kind", "kinds"), SCENARIOS)
    def test_run_timeout(self, runner_kind, kinds, blocked_factory, own_loop_backend):
        run = blocked_factory(runner_kind, kinds)
        limit = max(RUN_TIMEOUT[kind] for kind in kinds)
        with pytest.raises(RunTimeoutError) as excinfo:
            make_runner(runner_kind).run(run.pipeline(), run.catalog(), timeout=limit)
        error = excinfo.value
        assert isinstance(error, TimeoutError)
        assert error.timeout == limit
        assert f"{limit:g} s" in str(error)
        assert run.all_started(), "the limit passed before every node started"
        run.check_stopped()
        run.release_and_check_discarded()

    @pytest.mark.parametrize("runner_kind", ["sequential", "thread", "parallel"])
    def test_a_run_within_its_timeout_is_unaffected(self, runner_kind):
        pipe = Pipeline([node(current_pid, "a", "pid", name="n", executor="process")])
        result = make_runner(runner_kind).run(
            pipe, make_catalog(runner_kind, {"a": MemoryDataset(1)}), timeout=GUARD
        )
        assert result["pid"].load() != os.getpid()


# ------------------------------------------ a worker process still starting


#: Holds a new interpreter in its startup until the file ``open`` exists, for at
#: most ``HOLD`` seconds; a worker that is still alive then writes ``released``:
#: it was not killed (a leak), and it goes on starting.
HOLD = 5
SITECUSTOMIZE = f"""
import os, time
_gate = os.environ.get("DAGLOOP_TEST_WORKER_GATE")
if _gate:
    open(os.path.join(_gate, "starting.%d" % os.getpid()), "w").close()
    _deadline = time.monotonic() + {HOLD}
    while not os.path.exists(os.path.join(_gate, "open")):
        if time.monotonic() > _deadline:
            open(os.path.join(_gate, "released.%d" % os.getpid()), "w").close()
            break
        time.sleep(0.01)
"""


class StartingWorker:
    """Holds every new Python process of this test in its startup.

    A ``sitecustomize`` on ``PYTHONPATH`` (inherited by AnyIO's worker processes,
    which are new interpreters) writes ``starting.<pid>`` and waits: the worker is
    provably starting, and stays so while the test cancels the run.
    """

    def __init__(self, tmp_path: Path, monkeypatch: Any) -> None:
        site = tmp_path / "site"
        site.mkdir()
        (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
        self.gate = tmp_path / "gate"
        self.gate.mkdir()
        path = os.environ.get("PYTHONPATH")
        monkeypatch.setenv(
            "PYTHONPATH", os.pathsep.join(filter(None, [str(site), path]))
        )
        monkeypatch.setenv("DAGLOOP_TEST_WORKER_GATE", str(self.gate))
        #: A pool of the test's own: the default pool's warm workers would serve
        #: the node without starting a new process.
        self.pool = WorkerPool()

    def starting(self) -> list[int]:
        return [int(p.name.split(".")[1]) for p in self.gate.glob("starting.*")]

    def released(self) -> list[int]:
        """Workers that were still alive when the hold ended: never killed."""
        return [int(p.name.split(".")[1]) for p in self.gate.glob("released.*")]

    def release_and_kill(self) -> None:
        """Let any leaked worker go, then kill it, so the test leaves nothing.

        The leaked worker's pipes and transports are then garbage: collect them
        now, inside this test (whose filters let their ResourceWarnings be), not
        in whatever test runs next.
        """
        (self.gate / "open").touch()
        for pid in self.starting():
            try:
                process = psutil.Process(pid)
                process.kill()
                process.wait(GUARD)
            except psutil.NoSuchProcess:
                pass
        for _ in range(3):
            gc.collect()


@pytest.fixture
def starting_worker(tmp_path: Path, monkeypatch: Any) -> Any:
    worker = StartingWorker(tmp_path, monkeypatch)
    yield worker
    worker.release_and_kill()
    worker.pool.close()


#: ``anyio.run`` arguments for each backend of the ``anyio_backend`` fixture.
OWN_LOOP = {
    "asyncio": ("asyncio", {"use_uvloop": False}),
    "uvloop": ("asyncio", {"use_uvloop": True}),
    "trio": ("trio", {}),
}


# A worker left behind (the failure these tests look for) is an unclosed
# subprocess transport when the loop closes: its ResourceWarning, turned into an
# error by ``filterwarnings = error`` inside uvloop's ``loop.close()``, leaves that
# call hanging. Let the warning be a warning, so a leak fails the assertions
# below instead of hanging the test session.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
class TestCancelledWhileAWorkerStarts:
    """The window between starting a worker process and its first call.

    The ``arun()`` test runs its caller's loop itself (``anyio.run``) so that the
    loop, and whatever a leak left in it, is gone before the test ends.
    """

    @pytest.mark.parametrize("backend", list(OWN_LOOP))
    @pytest.mark.parametrize("runner_kind", ["thread", "parallel"])
    def test_arun_cancelled_kills_the_starting_worker(
        self, runner_kind, backend, starting_worker
    ):
        children_before = child_pids()
        pipe = Pipeline([node(current_pid, "a", "pid", name="n", executor="process")])

        async def caller() -> bool:
            with anyio.fail_after(GUARD):
                with anyio.CancelScope() as scope:
                    async with anyio.create_task_group() as group:

                        async def cancel_once_starting() -> None:
                            await wait_until(starting_worker.starting)
                            scope.cancel()

                        group.start_soon(cancel_once_starting)
                        await make_runner(runner_kind, pool=starting_worker.pool).arun(
                            pipe, make_catalog(runner_kind, {"a": MemoryDataset(1)})
                        )
                # Checked while the caller's loop still runs, as an app would.
                (pid,) = starting_worker.starting()
                assert process_gone(pid), (
                    f"worker {pid} outlived the cancelled run: "
                    f"{psutil.Process(pid).status()}"
                )
                assert child_pids() - children_before == set()
                return scope.cancelled_caught

        name, options = OWN_LOOP[backend]
        assert anyio.run(caller, backend=name, backend_options=options)

    @pytest.mark.parametrize("runner_kind", ["thread", "parallel"])
    def test_run_timeout_kills_the_starting_worker(
        self, runner_kind, starting_worker, own_loop_backend
    ):
        children_before = child_pids()
        pipe = Pipeline([node(current_pid, "a", "pid", name="n", executor="process")])
        with pytest.raises(RunTimeoutError):
            make_runner(runner_kind, pool=starting_worker.pool).run(
                pipe, make_catalog(runner_kind, {"a": MemoryDataset(1)}), timeout=0.5
            )
        starting = starting_worker.starting()
        assert len(starting) == 1, "the worker never started: raise the timeout"
        # run() must not wait for the worker to finish starting, then let it go.
        assert starting_worker.released() == []
        left = child_pids() - children_before
        assert left == set(), {
            pid: psutil.Process(pid).status() for pid in left if psutil.pid_exists(pid)
        }


# ---------------------------------------------------------------- Ctrl-C


def run_child_and_interrupt(
    runner_kind: str, kinds: tuple[str, ...], workdir: Path, env: dict[str, str]
) -> tuple[dict[str, Any], float, subprocess.CompletedProcess[str]]:
    """Start :func:`sigint_child`, send SIGINT once every node is in flight.

    Returns the child's report, when the signal was sent (``time.monotonic()``,
    comparable across processes on Linux) and the finished process.
    """
    config = json.dumps(
        {"runner": runner_kind, "kinds": list(kinds), "workdir": str(workdir)}
    )
    code = (
        "from tests.runner._reliability_nodes import sigint_child; "
        f"sigint_child({config!r})"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for kind in kinds:
            wait_for_marker(workdir / f"{kind}.started")
        sent_at = time.monotonic()
        child.send_signal(signal.SIGINT)
        stdout, stderr = child.communicate(timeout=GUARD)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    finished = subprocess.CompletedProcess(child.args, child.returncode, stdout, stderr)
    lines = stdout.strip().splitlines()
    assert lines, f"the child printed no report; stderr:\n{stderr}"
    return json.loads(lines[-1]), sent_at, finished


class TestCtrlC:
    @pytest.mark.parametrize("backend", list(BACKEND_ENV))
    @pytest.mark.parametrize(("runner_kind", "kinds"), SCENARIOS)
    def test_sigint_stops_run_promptly(self, runner_kind, kinds, backend, tmp_path):
        report, sent_at, child = run_child_and_interrupt(
            runner_kind, kinds, tmp_path, BACKEND_ENV[backend]
        )
        assert child.returncode == 0, child.stderr
        assert report["outcome"] == "KeyboardInterrupt", child.stderr
        # The one wall-clock requirement: Ctrl-C is handled within a second.
        assert report["interrupted_at"] - sent_at < 1.0
        # Worker processes were killed and reaped before run() raised.
        assert report["children"] == []
        if "process" in kinds:
            assert process_gone(read_pid(tmp_path / "process.started"))
        if "async" in kinds:
            assert report["async_cancelled"] == ["async"]
        # Only the thread blocked in user code outlived run(), besides idle
        # thread-pool workers.
        assert len(report["threads_in_user_code"]) == ("thread" in kinds)
        assert report["other_threads"] == []
        # What was saved before the interrupt is intact.
        assert listing(tmp_path) == sorted(
            ["saved.json", *(f"{kind}.started" for kind in kinds)]
        )
        assert json.loads((tmp_path / "saved.json").read_text()) == {"saved": True}
