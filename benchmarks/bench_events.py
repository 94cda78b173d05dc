"""events: what listening to a run's events costs per node.

The same runs three ways, interleaved: nobody listening; ``on_event=`` with a
callback that does nothing; and ``runner.stream()`` with a reader that takes
every event (``async for event in run: count += 1``). Two shapes:

* ``overhead_chain``'s chain of trivial sync nodes (``SequentialRunner``), where
  engine overhead is all there is: µs per node. Four events per node (started,
  loaded, saved, finished); the stream's reader is on the caller's loop while
  the run has a thread of its own, so events cross threads.
* ``io_fanout``'s independent nodes sleeping 20 ms on ``ThreadRunner(64)``: wall
  time of the run.

``run()`` is compared with ``run(on_event=...)``, and ``arun()`` with
``stream()`` (which runs as ``arun()`` does).

    python benchmarks/bench_events.py --events-chain-nodes 2000 --reps 5
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from _chain import chain_pipeline
from _harness import (
    TIMES,
    Case,
    check,
    interleave,
    load_engine,
    scenario_main,
    timed,
    timed_async,
)
from _nodes import sleep_sync

if TYPE_CHECKING:
    import argparse

    from _harness import Engine, Recorder, Row

NAME = "events"
TITLE = "listening to run events: on_event and stream() against nobody listening"
#: Issue 10: a consumer reading every event costs at most +25% per node.
TARGET_LISTENING = 1.25
THREADS = 64

QUIET = "run()"
CALLBACK = "run(on_event=<does nothing>)"
AQUIET = "arun()"
STREAM = "stream(), reader takes every event"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events-chain-nodes", type=int, default=2000, help="chain length"
    )
    parser.add_argument(
        "--events-fanout-nodes", type=int, default=500, help="sleeping nodes"
    )
    parser.add_argument(
        "--events-sleep-ms", type=float, default=20.0, help="sleep per node"
    )


def ignore(event: Any) -> None:
    """The cheapest callback: what is left is the cost of producing events."""


async def read_all(runner: Any, pipeline: Any, catalog: Any) -> tuple[Any, int]:
    """``stream()`` with a reader that takes every event; ``(outputs, events)``."""
    count = 0
    async with runner.stream(pipeline, catalog) as run:
        async for _ in run:
            count += 1
    return run.outputs, count


def cases(
    prefix: str,
    make: Any,
    check_out: Any,
    unit_scale: float,
    unit: str,
) -> list[Case]:
    """The four ways to run ``make()``'s ``(runner, pipeline, catalog)``."""

    def once(how: str) -> float:
        runner, pipeline, catalog = make()
        if how == QUIET:
            seconds, out = timed(runner.run, pipeline, catalog)
        elif how == CALLBACK:
            seconds, out = timed(lambda: runner.run(pipeline, catalog, on_event=ignore))
        elif how == AQUIET:
            seconds, out = timed_async(lambda: runner.arun(pipeline, catalog))
        else:
            seconds, (out, count) = timed_async(
                lambda: read_all(runner, pipeline, catalog)
            )
            check(count > 0, f"{prefix} {how}: no events read")
        check_out(out, f"{prefix} {how}")
        return seconds * unit_scale

    def case(how: str) -> Case:
        def run() -> list[Row]:
            return [("run", once(how), unit)]

        return Case("dagloop", f"{prefix}, {how}", run, lambda: once(how))

    return [case(how) for how in (QUIET, CALLBACK, AQUIET, STREAM)]


def chain_cases(engine: Engine, n: int) -> list[Case]:
    pipeline = chain_pipeline(engine, n)

    def make() -> tuple[Any, Any, Any]:
        catalog = engine.io.DataCatalog({"d0": engine.io.MemoryDataset(0)})
        return engine.runner.SequentialRunner(), pipeline, catalog

    def check_out(out: dict[str, Any], what: str) -> None:
        check(out[f"d{n}"].load() == n, what)

    return cases("chain", make, check_out, 1e6 / n, "µs/node")


def fanout_cases(engine: Engine, n: int, seconds: float) -> list[Case]:
    p = engine.pipeline
    pipeline = p.Pipeline(
        [p.node(sleep_sync, "delay", f"s{i}", name=f"sleep{i}") for i in range(n)]
    )

    def make() -> tuple[Any, Any, Any]:
        catalog = engine.io.DataCatalog({"delay": engine.io.MemoryDataset(seconds)})
        return engine.runner.ThreadRunner(max_workers=THREADS), pipeline, catalog

    def check_out(out: dict[str, Any], what: str) -> None:
        check(len(out) == n, what)

    return cases("io_fanout", make, check_out, 1.0, "s")


def measure(args: argparse.Namespace, rec: Recorder) -> None:
    engine = load_engine("dagloop")
    rec.note(
        f"chain: {args.events_chain_nodes:,} trivial sync nodes, SequentialRunner, µs per "
        f"node; io_fanout: {args.events_fanout_nodes} nodes x {args.events_sleep_ms:g} ms, "
        f"ThreadRunner({THREADS}), wall time. Four events per node."
    )
    chain = chain_cases(engine, args.events_chain_nodes)
    fanout = fanout_cases(engine, args.events_fanout_nodes, args.events_sleep_ms / 1000)
    interleave(rec, chain + fanout, args.reps)
    for prefix in ("chain", "io_fanout"):
        quiet, callback = (
            (f"{prefix}, {QUIET}", "run"),
            (f"{prefix}, {CALLBACK}", "run"),
        )
        aquiet, stream = (f"{prefix}, {AQUIET}", "run"), (f"{prefix}, {STREAM}", "run")
        for label, listening, baseline in (
            ("on_event / nobody listening", callback, quiet),
            ("stream() / arun()", stream, aquiet),
        ):
            rec.target(
                f"{prefix}: {label} (+25% at most)",
                rec.ratio(
                    f"{prefix}: {label}",
                    ("dagloop", *listening),
                    ("dagloop", *baseline),
                ),
                TARGET_LISTENING,
                TIMES,
            )


if __name__ == "__main__":
    scenario_main(NAME, TITLE, add_arguments, measure)
