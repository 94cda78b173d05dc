"""Notebook style: the sync ``runner.run()`` called where an event loop is running.

Jupyter runs every cell inside its own asyncio event loop, so code in a cell is
"inside a running loop" even when it looks synchronous. ``asyncio.run()`` — and
therefore a runner that started its loop with it — would fail there with
"cannot be called from a running event loop"; the usual hack is
``nest_asyncio``, which patches asyncio to re-enter the loop.

dagloop needs neither: ``run()`` sees that this thread's loop is running and
runs the pipeline on a *fresh* event loop in a helper thread instead (through an
AnyIO blocking portal), blocking the cell until the run is done, as a sync call
does, and never re-entering the notebook's loop. Nodes that are ``async def`` run
on that fresh loop; the notebook's loop is untouched.

This script imitates a notebook: ``cell()`` is the code of a cell, run inside
the loop that ``asyncio.run`` starts, and calls ``SequentialRunner().run(...)``
synchronously. It then does the same with ``await runner.arun(...)``, the
non-blocking way a cell (which allows top-level ``await``) can also run a
pipeline, on the notebook's own loop.

Run it:  python examples/notebook_style.py
"""

from __future__ import annotations

import asyncio
import statistics
import threading
from typing import Any

from dagloop.io import DataCatalog
from dagloop.pipeline import Pipeline, node, pipeline
from dagloop.runner import SequentialRunner

# ------------------------------------------------------------------- the nodes

#: Where each node ran: (node, thread name, whether an asyncio loop was running).
TRACE: list[tuple[str, str, int]] = []


def _note(name: str) -> None:
    try:
        loop_id = id(asyncio.get_running_loop())
    except RuntimeError:
        loop_id = 0
    TRACE.append((name, threading.current_thread().name, loop_id))


def clean(raw: list[float | None]) -> list[float]:
    _note("clean")
    return [x for x in raw if x is not None]


async def enrich(values: list[float]) -> dict[str, float]:
    """An async node (e.g. looking something up over HTTP)."""
    _note("enrich")
    await asyncio.sleep(0.01)
    return {"mean": statistics.fmean(values), "stdev": statistics.stdev(values)}


def zscores(values: list[float], stats: dict[str, float]) -> list[float]:
    _note("zscores")
    return [round((x - stats["mean"]) / stats["stdev"], 3) for x in values]


def build_pipeline() -> Pipeline:
    return pipeline(
        [
            node(clean, "raw", "values", name="clean"),
            node(enrich, "values", "stats", name="enrich"),
            node(zscores, ["values", "stats"], "z", name="zscores"),
        ]
    )


RAW = [1.0, None, 2.0, 4.0, None, 8.0]


# ------------------------------------------------------------------ the "cell"


async def cell() -> dict[str, Any]:
    """What a notebook cell would contain; it runs inside a running event loop."""
    notebook_loop = asyncio.get_running_loop()
    notebook_thread = threading.current_thread().name
    print(f"cell: running inside loop {id(notebook_loop):#x} on {notebook_thread}")

    # 1. The plain sync call, exactly as in a script. asyncio.run() would raise
    #    here; dagloop runs the pipeline on a new loop in a helper thread.
    TRACE.clear()
    outputs = SequentialRunner().run(build_pipeline(), DataCatalog({"raw": RAW}))
    sync_z = outputs["z"].load()
    sync_trace = list(TRACE)
    print(f"run():  z = {sync_z}")
    for name, thread, loop_id in sync_trace:
        print(
            f"  {name:<8} ran on thread {thread!r}, loop "
            f"{'<none>' if not loop_id else hex(loop_id)}"
            f"{' (the notebook loop!)' if loop_id == id(notebook_loop) else ''}"
        )

    # 2. The async way, with top-level await in a cell: the run shares the
    #    notebook's loop and does not block it (sync nodes go to worker threads).
    TRACE.clear()
    outputs = await SequentialRunner().arun(build_pipeline(), DataCatalog({"raw": RAW}))
    async_z = await outputs["z"].aload()
    async_trace = list(TRACE)
    print(f"arun(): z = {async_z}")
    for name, thread, loop_id in async_trace:
        on_nb_loop = " (the notebook loop)" if loop_id == id(notebook_loop) else ""
        print(f"  {name:<8} ran on thread {thread!r}{on_nb_loop}")

    return {
        "notebook_loop": id(notebook_loop),
        "notebook_thread": notebook_thread,
        "run": {"z": sync_z, "trace": sync_trace},
        "arun": {"z": async_z, "trace": async_trace},
    }


def main() -> dict[str, Any]:
    """Start a loop as Jupyter does and run the cell in it."""
    return asyncio.run(cell())


if __name__ == "__main__":
    main()
