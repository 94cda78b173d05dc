"""runner._streams.Stream: every reader gets every item, in order, with a
bounded buffer; faults reach every reader (checked by recording, not timing)."""

from __future__ import annotations

from typing import Any

import anyio
import anyio.lowlevel
import pytest

from dagloop.runner._streams import Stream


async def count_to(n: int, log: list[tuple[str, int]] | None = None) -> Any:
    for i in range(n):
        if log is not None:
            log.append(("made", i))
        yield i


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_every_reader_gets_every_item_in_order(backend: str) -> None:
    got: dict[str, list[int]] = {"a": [], "b": []}

    async def main() -> None:
        stream = Stream("pages", ["a", "b"], buffer=2)

        async def read(name: str) -> None:
            async for item in stream.reader(name):
                got[name].append(item)
                await anyio.lowlevel.checkpoint()

        async with anyio.create_task_group() as group:
            group.start_soon(read, "a")
            group.start_soon(read, "b")
            await stream.feed(count_to(50))
        assert stream.items == 50

    anyio.run(main, backend=backend)
    assert got == {"a": list(range(50)), "b": list(range(50))}


def test_the_producer_is_never_more_than_the_buffer_ahead() -> None:
    log: list[tuple[str, int]] = []

    async def main() -> float:
        stream = Stream("pages", ["slow"], buffer=3)

        async def read() -> None:
            async for item in stream.reader("slow"):
                log.append(("read", item))
                await anyio.sleep(0.001)

        async with anyio.create_task_group() as group:
            group.start_soon(read)
            await stream.feed(count_to(40, log))
        return stream.waited

    waited = anyio.run(main)
    made = read = ahead = 0
    for kind, _ in log:
        made += kind == "made"
        read += kind == "read"
        ahead = max(ahead, made - read)
    # The buffer's 3 items, one the producer holds while it waits, and the one
    # the reader is handling.
    assert ahead <= 3 + 2
    assert waited > 0  # it did wait on the full buffer


def test_a_producers_error_ends_every_reader_with_it() -> None:
    boom = ValueError("page 3 is broken")
    seen: dict[str, Any] = {}

    async def failing() -> Any:
        yield 1
        yield 2
        raise boom

    async def main() -> None:
        stream = Stream("pages", ["a", "b"], buffer=4)

        async def read(name: str) -> None:
            items: list[int] = []
            try:
                async for item in stream.reader(name):
                    items.append(item)  # noqa: PERF401  (kept when it raises)
            except ValueError as exc:
                seen[name] = (items, exc)

        async with anyio.create_task_group() as group:
            group.start_soon(read, "a")
            group.start_soon(read, "b")
            with pytest.raises(ValueError, match="page 3"):
                await stream.feed(failing())

    anyio.run(main)
    assert seen["a"] == ([1, 2], boom)
    assert seen["b"][1] is boom


def test_a_reader_that_stops_early_does_not_hold_the_others_up() -> None:
    got: list[int] = []

    async def main() -> None:
        stream = Stream("pages", ["quitter", "keeper"], buffer=1)

        async def quit_after_two() -> None:
            reader = stream.reader("quitter")
            async for item in reader:
                if item == 1:
                    await reader.aclose()
                    return

        async def keep() -> None:
            got.extend([item async for item in stream.reader("keeper")])

        async with anyio.create_task_group() as group:
            group.start_soon(quit_after_two)
            group.start_soon(keep)
            await stream.feed(count_to(20))

    anyio.run(main)
    assert got == list(range(20))


def test_a_sync_reader_in_a_worker_thread_gets_a_plain_iterator() -> None:
    async def main() -> list[int]:
        stream = Stream("pages", ["sync"], buffer=2)
        result: list[int] = []

        def consume() -> None:
            result.extend(x * 10 for x in stream.reader("sync").in_thread())

        async with anyio.create_task_group() as group:
            group.start_soon(anyio.to_thread.run_sync, consume)
            await stream.feed(count_to(10))
        return result

    assert anyio.run(main) == [x * 10 for x in range(10)]


def test_a_reader_taken_after_a_quick_producer_ended_still_gets_everything() -> None:
    async def main() -> list[int]:
        stream = Stream("pages", ["late", "never"], buffer=8)
        await stream.feed(count_to(5))
        items = [item async for item in stream.reader("late")]
        stream.discard()  # "never" was never taken: closed, no warning
        return items

    assert anyio.run(main) == [0, 1, 2, 3, 4]
