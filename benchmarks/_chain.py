"""The chain of trivial sync nodes ``d0 -> d1 -> ... -> dN`` (``x + 1`` each).

Shared by ``overhead_chain``, ``thread_hop`` and ``hamilton``: one shape, one way
to run and check it, so their rows measure the same thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from _harness import Case, check, timed, timed_async
from _nodes import inc

if TYPE_CHECKING:
    from _harness import Engine, Row


def chain_pipeline(engine: Engine, length: int) -> Any:
    """``length`` nodes ``inc`` from ``d0`` to ``d<length>``, in ``engine``'s API."""
    p = engine.pipeline
    return p.Pipeline(
        [p.node(inc, f"d{i}", f"d{i + 1}", name=f"n{i}") for i in range(length)]
    )


def chain_case(engine: Engine, config: str, n: int, *, awaited: bool = False) -> Case:
    """``SequentialRunner().run()`` (or ``arun()``) of an ``n``-node chain, µs/node;
    warmed up on a 20-node chain."""

    def run_once(pipe: Any, length: int) -> float:
        catalog = engine.io.DataCatalog({"d0": engine.io.MemoryDataset(0)})
        runner = engine.runner.SequentialRunner()
        if awaited:
            seconds, out = timed_async(lambda: runner.arun(pipe, catalog))
        else:
            seconds, out = timed(runner.run, pipe, catalog)
        check(out[f"d{length}"].load() == length, f"{engine.name} {config}")
        return seconds

    pipe, small = chain_pipeline(engine, n), chain_pipeline(engine, 20)

    def run() -> list[Row]:
        return [("run", run_once(pipe, n) / n * 1e6, "µs/node")]

    return Case(engine.name, config, run, lambda: run_once(small, 20))
