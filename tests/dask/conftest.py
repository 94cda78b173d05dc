"""Real Dask clusters for DaskRunner's tests: never mocked.

* ``local_client``: a ``LocalCluster`` of two worker processes and a
  synchronous ``Client`` on it, for the module.
* ``cli_scheduler``: a scheduler and two workers started as separate processes
  with Dask's own command line (``dask scheduler``, ``dask worker``) on
  127.0.0.1; its address.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["asyncio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def local_client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        yield client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def cli_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``dask scheduler`` and two ``dask worker`` processes; the scheduler's address.

    The workers import the tests' node functions: the project root is on their
    PYTHONPATH, as a project's code would be on a real cluster's workers.
    """
    from distributed import Client

    dask = str(Path(sys.executable).parent / "dask")  # Dask's console script
    address = f"tcp://127.0.0.1:{free_port()}"
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = dict(os.environ, PYTHONPATH=path)
    logs = tmp_path_factory.mktemp("dask-cli")
    commands = [
        [dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
         "--dashboard-address", ":0"],
        *([dask, "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
           "--dashboard-address", ":0", "--name", f"cli-worker-{i}"] for i in range(2)),
    ]  # fmt: skip
    with ExitStack() as stack:
        processes: list[subprocess.Popen[bytes]] = []
        for i, command in enumerate(commands):
            log = stack.enter_context((logs / f"{i}.log").open("w"))
            processes.append(
                subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
            )
        try:
            deadline = time.monotonic() + 60
            with Client(address, timeout=60) as client:
                while len(client.scheduler_info()["workers"]) < 2:
                    assert time.monotonic() < deadline, "the CLI workers never joined"
                    assert all(p.poll() is None for p in processes), "dask exited"
                    time.sleep(0.2)
            yield address
        finally:
            for process in processes[::-1]:
                process.terminate()
            for process in processes:
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
