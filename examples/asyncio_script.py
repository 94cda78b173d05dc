"""An asyncio script: ``await runner.arun(...)`` with async, thread and process nodes.

``asyncio.run(main())`` starts the event loop; ``main`` awaits a pipeline run on
that same loop. One pipeline mixes the three kinds of node placement:

* ``load_readings`` is ``async def``: a coroutine on the script's event loop
  (main thread, this process);
* ``checksum`` is sync with ``executor="thread"``: a worker thread of this
  process, so the loop keeps running while it works;
* ``sum_of_squares`` is sync with ``executor="process"``: a worker process, for
  CPU-bound work that should not hold the GIL of the loop's process;
* ``summarise`` is ``async def`` again and combines the two.

Each node reports where it ran; a heartbeat task shows that the loop stayed
free while the sync nodes worked. Process nodes need module-level functions, and
the worker process imports this module, hence the ``__main__`` guard at the end.

Run it:  python examples/asyncio_script.py
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from typing import Any

from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import ThreadRunner


def where() -> dict[str, Any]:
    """The process and thread the caller runs in."""
    thread = threading.current_thread()
    return {"pid": os.getpid(), "thread": thread.name, "thread_id": thread.ident}


# ------------------------------------------------------------------- the nodes


async def load_readings(count: int) -> dict[str, Any]:
    """Async: stands in for an async database or API read."""
    await asyncio.sleep(0.01)
    return {"values": [(i * 7919) % 1000 for i in range(count)], "ran": where()}


def checksum(readings: dict[str, Any]) -> dict[str, Any]:
    """Sync, in a thread: blocking work that must not stall the loop."""
    digest = hashlib.sha256(repr(readings["values"]).encode()).hexdigest()
    return {"sha256": digest[:16], "ran": where()}


def sum_of_squares(readings: dict[str, Any]) -> dict[str, Any]:
    """Sync, in a process: CPU-bound work, module-level so it can be pickled."""
    total = 0
    for _ in range(20):  # some real CPU work
        total = sum(v * v for v in readings["values"])
    return {"sum_of_squares": total, "ran": where()}


async def summarise(
    readings: dict[str, Any], digest: dict[str, Any], squares: dict[str, Any]
) -> dict[str, Any]:
    """Async again: combine the results, and where each node ran."""
    return {
        "count": len(readings["values"]),
        "sha256": digest["sha256"],
        "sum_of_squares": squares["sum_of_squares"],
        "ran": {
            "load_readings": readings["ran"],
            "checksum": digest["ran"],
            "sum_of_squares": squares["ran"],
            "summarise": where(),
        },
    }


def build_pipeline() -> Pipeline:
    return pipeline(
        [
            node(load_readings, "count", "readings", name="load_readings"),
            node(checksum, "readings", "digest", name="checksum", executor="thread"),
            node(
                sum_of_squares,
                "readings",
                "squares",
                name="sum_of_squares",
                executor="process",
            ),
            node(
                summarise,
                ["readings", "digest", "squares"],
                "summary",
                name="summarise",
            ),
        ]
    )


# ------------------------------------------------------------------------ main


async def main(count: int = 200_000) -> dict[str, Any]:
    """Run the pipeline on this event loop and report where each node ran."""
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.005)

    me = where()
    print(f"main: pid={me['pid']} thread={me['thread']} (the event loop)")
    catalog = DataCatalog({"count": MemoryDataset(count)})
    beating = asyncio.create_task(heartbeat())
    try:
        # The run shares this loop: async nodes are tasks on it, the thread and
        # process nodes are awaited without blocking it.
        outputs = await ThreadRunner().arun(build_pipeline(), catalog)
    finally:
        beating.cancel()
    summary = await outputs["summary"].aload()

    ran = {"main": me, **summary.pop("ran")}
    kinds = {
        "load_readings": "async",
        "checksum": "thread",
        "sum_of_squares": "process",
        "summarise": "async",
    }
    for name, kind in kinds.items():
        info = ran[name]
        if info["pid"] != me["pid"]:
            place = "another process"
        elif info["thread_id"] == me["thread_id"]:
            place = "this process, the loop's thread"
        else:
            place = "this process, another thread"
        print(
            f"{name:<15} ({kind:<7}) pid={info['pid']} thread={info['thread']!r}: "
            f"{place}"
        )
    print(f"heartbeat ticked {ticks} time(s) while the run was awaited")
    print(f"summary = {summary}")
    print(f"ran = {ran}")
    return {"summary": summary, "ran": ran, "ticks": ticks}


if __name__ == "__main__":
    asyncio.run(main())
