"""Node functions and graph shapes shared by the scenarios.

They live in an importable module, not in the scenario scripts, so that worker
processes (Kedro's ``ProcessPoolExecutor``, dagloop's worker processes, the floors'
pools) can unpickle them by reference.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any

# ------------------------------------------------------------------- trivial


def inc(x: int) -> int:
    return x + 1


async def ainc(x: int) -> int:
    """``inc`` as an ``async def`` node: no await inside, the bare coroutine cost."""
    return x + 1


def total(*values: Any) -> Any:
    return sum(values)


def first(*args: Any) -> Any:
    """A DAG node: passes its first input on."""
    return args[0] if args else None


def wiring(size: int, seed: int = 7) -> list[tuple[list[str], str]]:
    """A layered random DAG: each node reads 1-3 outputs of the previous layers.

    ``sqrt(size)`` nodes per layer; the first layer reads the free inputs
    ``raw_0`` ... ``raw_9``. Returns ``(inputs, output)`` per node, in layer order.
    """
    rng = random.Random(seed)
    layer_width = max(1, int(size**0.5))
    specs: list[tuple[list[str], str]] = []
    for i in range(size):
        layer_start = (i // layer_width) * layer_width
        if layer_start == 0:
            inputs = [f"raw_{i % 10}"]
        else:
            inputs = sorted(
                {f"d{rng.randrange(layer_start)}" for _ in range(rng.randint(1, 3))}
            )
        specs.append((inputs, f"d{i}"))
    return specs


# ------------------------------------------------------------------ sleeping


def sleep_sync(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


async def sleep_async(seconds: float) -> float:
    await asyncio.sleep(seconds)
    return seconds


# ---------------------------------------------------------------------- HTTP


def fetch_sync(client: Any, url: str) -> int:
    """GET ``url`` with a shared sync ``httpx.Client``; the answer's ``value``."""
    response = client.get(url)
    response.raise_for_status()
    return int(response.json()["value"])


async def fetch_async(url: str) -> int:
    """GET ``url`` with the run's shared ``httpx.AsyncClient`` (dagloop)."""
    from dagloop.io.http_dataset import shared_http_client

    async with shared_http_client() as client:
        response = await client.get(url)
    response.raise_for_status()
    return int(response.json()["value"])


# ----------------------------------------------------------------------- CPU


def burn(loops: int) -> int:
    """Pure-Python CPU work: ``loops`` iterations of integer arithmetic."""
    acc = 0
    for i in range(loops):
        acc = (acc + i * i) % 1_000_003
    return acc


def time_burn(loops: int) -> float:
    """Seconds one ``burn(loops)`` takes where it is called (a worker process)."""
    start = time.perf_counter()
    burn(loops)
    return time.perf_counter() - start


# ------------------------------------------------------------------ payloads


def make_array(length: int, fill: float) -> Any:
    """A float64 array of ``length`` items (8 bytes each)."""
    import numpy as np

    return np.full(length, fill, dtype=np.float64)


def sum_arrays(*arrays: Any) -> float:
    return float(sum(float(a.sum()) for a in arrays))


# ------------------------------------------------------------ stop latency


def spin_forever(marker: str) -> None:
    """Write ``marker``, then burn CPU until killed (a process node to stop)."""
    with open(marker, "w") as handle:
        handle.write(str(time.time()))
    while True:
        pass


def spin_with_pid(marker: str) -> None:
    """Write this process's pid to ``marker``, then burn CPU until killed."""
    with open(marker, "w") as handle:
        handle.write(str(os.getpid()))
    while True:
        pass


def kill_own_worker(marker: str) -> None:
    """Write the time into ``marker``, then SIGKILL the process running this."""
    import os
    import signal

    with open(marker, "w") as handle:
        handle.write(str(time.time()))
    os.kill(os.getpid(), signal.SIGKILL)


def timed_burn(loops: int) -> tuple[int, float, float]:
    """``burn(loops)``; returns (pid, start, end) wall-clock times, for timelines."""
    import os

    start = time.time()
    burn(loops)
    return os.getpid(), start, time.time()
