"""streaming: a producer, a transform and a sink, item by item.

A producer yields ``--streaming-items`` items ``--streaming-delay-ms`` apart, a
transform does that much async work per item, and a sink adds them up. Three
ways, interleaved:

* dagloop with streaming edges (``async def`` generator nodes, buffer 16);
* the floor: the same three coroutines by hand, joined by two
  ``asyncio.Queue(maxsize=16)``;
* dagloop without streaming: the producer returns a list, the transform
  another, the sink adds them up (what streaming saves).

Measured: the total time; when the first item reached the sink; and, for
dagloop, how far the producer got ahead of the transform (never more than the
buffer plus the items in hand).

    python benchmarks/bench_streaming.py --reps 5
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from _harness import TIMES, Case, check, interleave, load_engine, scenario_main

if TYPE_CHECKING:
    import argparse

    from _harness import Engine, Recorder, Row

NAME = "streaming"
TITLE = "streaming edges: producer, transform and sink against asyncio.Queue"
#: Issue 14: total time at most 1.1x the hand-written queue pipeline.
TARGET_TOTAL = 1.1
#: Issue 14: the first item reaches the sink within 3 item-latencies.
FIRST_ITEM_LATENCIES = 3
BUFFER = 16

STREAMED = "streaming edges"
FLOOR = "asyncio.Queue by hand"
COLLECTED = "collect, then process"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--streaming-items", type=int, default=200, help="items")
    parser.add_argument(
        "--streaming-delay-ms", type=float, default=5.0, help="per item, each step"
    )


class Clock:
    """When things happened in one run, from its start."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first_at_sink: float | None = None
        self.made = 0
        self.taken = 0
        self.lead = 0

    def made_one(self) -> None:
        self.made += 1
        self.lead = max(self.lead, self.made - self.taken)

    def took_one(self) -> None:
        self.taken += 1

    def reached_sink(self) -> None:
        if self.first_at_sink is None:
            self.first_at_sink = time.perf_counter() - self.start


CLOCK = Clock()


async def produce(spec: dict[str, Any]) -> Any:
    for i in range(spec["items"]):
        await asyncio.sleep(spec["delay"])
        CLOCK.made_one()
        yield i


async def transform(items: Any, spec: dict[str, Any]) -> Any:
    async for item in items:
        CLOCK.took_one()
        await asyncio.sleep(spec["delay"])
        yield item * 2


async def sink(items: Any) -> int:
    total = 0
    async for item in items:
        CLOCK.reached_sink()
        total += item
    return total


async def produce_all(spec: dict[str, Any]) -> list[int]:
    return [item async for item in produce(spec)]


async def transform_all(items: list[int], spec: dict[str, Any]) -> list[int]:
    out = []
    for item in items:
        await asyncio.sleep(spec["delay"])
        out.append(item * 2)
    return out


def sink_all(items: list[int]) -> int:
    CLOCK.reached_sink()
    return sum(items)


async def by_hand(spec: dict[str, Any]) -> int:
    """The floor: three coroutines and two bounded queues."""
    end = object()
    pages: asyncio.Queue[Any] = asyncio.Queue(BUFFER)
    doubled: asyncio.Queue[Any] = asyncio.Queue(BUFFER)

    async def source() -> None:
        async for item in produce(spec):
            await pages.put(item)
        await pages.put(end)

    async def middle() -> None:
        while (item := await pages.get()) is not end:
            CLOCK.took_one()
            await asyncio.sleep(spec["delay"])
            await doubled.put(item * 2)
        await doubled.put(end)

    async def last() -> int:
        total = 0
        while (item := await doubled.get()) is not end:
            CLOCK.reached_sink()
            total += item
        return total

    async with asyncio.TaskGroup() as group:
        group.create_task(source())
        group.create_task(middle())
        result = group.create_task(last())
    return result.result()


def cases(engine: Engine, spec: dict[str, Any]) -> list[Case]:
    p, io, runner = engine.pipeline, engine.io, engine.runner
    streamed = p.pipeline(
        [
            p.node(produce, "spec", "items", name="produce", buffer=BUFFER),
            p.node(transform, ["items", "spec"], "doubled", name="transform"),
            p.node(sink, "doubled", "total", name="sink"),
        ]
    )
    collected = p.pipeline(
        [
            p.node(produce_all, "spec", "items", name="produce"),
            p.node(transform_all, ["items", "spec"], "doubled", name="transform"),
            p.node(sink_all, "doubled", "total", name="sink"),
        ]
    )
    expected = sum(2 * i for i in range(spec["items"]))

    def once(how: str) -> list[Row]:
        global CLOCK
        CLOCK = Clock()
        if how == FLOOR:
            total = asyncio.run(by_hand(spec))
        else:
            pipe = streamed if how == STREAMED else collected
            catalog = io.DataCatalog({"spec": io.MemoryDataset(spec)})
            total = runner.ThreadRunner().run(pipe, catalog)["total"].load()
        seconds = time.perf_counter() - CLOCK.start
        check(total == expected, f"{how}: total {total} != {expected}")
        first = CLOCK.first_at_sink or seconds
        rows: list[Row] = [("total", seconds, "s"), ("first item", first * 1e3, "ms")]
        if how != COLLECTED:
            rows.append(("producer ahead", float(CLOCK.lead), "items"))
        return rows

    return [
        Case("dagloop" if how != FLOOR else "floor", how, lambda h=how: once(h))
        for how in (STREAMED, FLOOR, COLLECTED)
    ]


def measure(args: argparse.Namespace, rec: Recorder) -> None:
    engine = load_engine("dagloop")
    spec = {"items": args.streaming_items, "delay": args.streaming_delay_ms / 1000}
    rec.note(
        f"{args.streaming_items} items, {args.streaming_delay_ms:g} ms per item in "
        f"the producer and in the transform, buffer {BUFFER}, ThreadRunner.run()"
    )
    interleave(rec, cases(engine, spec), args.reps)
    rec.target(
        "total time / asyncio.Queue by hand (1.1x at most)",
        rec.ratio(
            "streaming / by hand",
            ("dagloop", STREAMED, "total"),
            ("floor", FLOOR, "total"),
        ),
        TARGET_TOTAL,
        TIMES,
    )
    rec.ratio(
        "collect, then process / streaming",
        ("dagloop", COLLECTED, "total"),
        ("dagloop", STREAMED, "total"),
    )
    rec.target(
        f"first item at the sink (within {FIRST_ITEM_LATENCIES} item-latencies)",
        rec.median("dagloop", STREAMED, "first item"),
        FIRST_ITEM_LATENCIES * args.streaming_delay_ms,
        "ms",
    )
    rec.target(
        f"producer ahead of the transform (buffer {BUFFER} + 2 in hand)",
        rec.median("dagloop", STREAMED, "producer ahead"),
        BUFFER + 2,
        "items",
    )


if __name__ == "__main__":
    scenario_main(NAME, TITLE, add_arguments, measure)
