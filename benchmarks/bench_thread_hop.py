"""thread_hop: what arun() pays per sync node for keeping node code off the loop.

``SequentialRunner().arun()`` never runs a sync node on the caller's event loop;
``run()``, on a loop of its own, calls them inline. For a pipeline of sync nodes
only, ``arun()`` moves the whole run to a loop of its own in one worker thread (one
hop per run). N trivial sync nodes ``x + 1`` in a chain (``d0 -> ... -> dN``),
in-memory data; reported: µs per node. ``arun()`` is awaited inside
``asyncio.run`` with the clock around the await only (an application's loop is
already running); ``run()`` is timed whole (it starts its own loop). ``run()`` on
the same chain is the floor here; target (issue 9): ``arun()`` at most twice ``run()``.
References: a hop per node, one ``anyio.to_thread.run_sync(inc, x)`` awaited per
node (what a sync node of a pipeline with async nodes pays), timed like
``arun()``; and Kedro's ``SequentialRunner.run()`` on a shorter chain
(``--hop-kedro-nodes``): Kedro's cost per node grows with the chain's length (see
``overhead_chain``), so at 2,000 nodes it would take ~7 s per repetition and its
figure is a lower bound for the full length.

    python benchmarks/bench_thread_hop.py --hop-nodes 2000 --hop-kedro-nodes 500
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio.to_thread
from _chain import chain_case
from _harness import (
    TIMES,
    Case,
    check,
    engines,
    interleave,
    scenario_main,
    timed_async,
)
from _nodes import inc

if TYPE_CHECKING:
    import argparse

    from _harness import Engine, Recorder, Row

NAME = "thread_hop"
TITLE = "trivial sync nodes in a chain, SequentialRunner arun() vs run(), µs per node"
AWAITED = "SequentialRunner.arun()"
OWN_LOOP = "SequentialRunner.run()"
HOP = "asyncio + anyio.to_thread per node"
TARGET_RUN = 2.0  # issue 9


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hop-nodes", type=int, default=2000, help="chain length")
    parser.add_argument(
        "--hop-kedro-nodes",
        type=int,
        default=500,
        help="chain length for Kedro's reference row (its cost grows with length)",
    )


def engine_case(engine: Engine, config: str, n: int) -> Case:
    return chain_case(engine, config, n, awaited=config == AWAITED)


async def _hops(n: int) -> int:
    value = 0
    for _ in range(n):
        value = await anyio.to_thread.run_sync(inc, value)
    return value


def floor_case(n: int) -> Case:
    def run() -> list[Row]:
        seconds, result = timed_async(lambda: _hops(n))
        check(result == n, HOP)
        return [("run", seconds / n * 1e6, "µs/node")]

    return Case("floor", HOP, run, lambda: timed_async(lambda: _hops(20)))


def measure(args: argparse.Namespace, rec: Recorder) -> None:
    n, k = args.hop_nodes, args.hop_kedro_nodes
    rec.note(
        f"{n:,} nodes (Kedro: {k:,}, its per-node cost grows with the chain's "
        "length); µs per node; arun() and the bare hop awaited inside asyncio.run "
        "(loop start and close left out), run() timed whole; logging at WARNING."
    )
    found = engines(rec)
    dagloop = found[0]
    cases = [
        engine_case(dagloop, AWAITED, n),
        engine_case(dagloop, OWN_LOOP, n),
        floor_case(n),
        *(engine_case(e, f"{OWN_LOOP}, {k:,} nodes", k) for e in found[1:]),
    ]
    interleave(rec, cases, args.reps)

    awaited = ("dagloop", AWAITED, "run")
    to_run = rec.ratio(
        f"dagloop {AWAITED} / dagloop {OWN_LOOP} (the floor here)",
        awaited,
        ("dagloop", OWN_LOOP, "run"),
    )
    rec.target(f"{AWAITED} / {OWN_LOOP}, per node", to_run, TARGET_RUN, TIMES)
    rec.ratio(f"dagloop {AWAITED} / floor {HOP}", awaited, ("floor", HOP, "run"))
    rec.ratio(
        f"Kedro {OWN_LOOP} ({k:,} nodes) / dagloop {AWAITED} ({n:,} nodes), per node",
        ("kedro", f"{OWN_LOOP}, {k:,} nodes", "run"),
        awaited,
    )


if __name__ == "__main__":
    scenario_main(NAME, TITLE, add_arguments, measure)
