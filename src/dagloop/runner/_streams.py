"""One streaming edge: a producer's items, to every consumer, with backpressure.

A :class:`Stream` has one bounded buffer per reader (a consumer node, or the
saver that persists the items). The producer sends each item to every reader in
turn and waits while a buffer is full: the slowest reader sets the pace, and no
reader is ever more than ``buffer`` items behind. A reader that stops early is
dropped; the others go on. When the producer raises, every reader ends its
iteration with that same exception. See docs/streams.md.
"""

from __future__ import annotations

import contextlib
from time import perf_counter
from typing import TYPE_CHECKING, Any

import anyio
import anyio.from_thread

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator

    from anyio.streams.memory import (
        MemoryObjectReceiveStream,
        MemoryObjectSendStream,
    )

__all__ = ["DEFAULT_BUFFER", "SAVER", "Stream", "StreamReader"]

#: Items a reader may be behind its producer, unless the producer's node says.
DEFAULT_BUFFER = 16
#: The reader that saves a persistent stream's items through the catalog.
SAVER = "<saver>"


class Stream:
    """The items of one producer's output, for a fixed set of readers."""

    def __init__(self, name: str, readers: Iterable[str], buffer: int) -> None:
        """Open a buffer of ``buffer`` items for each reader.

        Args:
            name: The output's dataset name (for errors).
            readers: Who reads: the consumer nodes' names (and the saver's).
            buffer: Items each reader may be behind.
        """
        self.name = name
        self._sends: dict[str, MemoryObjectSendStream[Any]] = {}
        self._receives: dict[str, MemoryObjectReceiveStream[Any]] = {}
        for reader in readers:
            send, receive = anyio.create_memory_object_stream[Any](buffer)
            self._sends[reader] = send
            self._receives[reader] = receive
        #: Every reader's end, handed out or not: closed when the run ends.
        self._ends = list(self._receives.values())
        self._taken: dict[str, MemoryObjectReceiveStream[Any]] = {}
        #: The producer's exception, once it raised: every reader ends with it.
        self.error: BaseException | None = None
        #: Items the producer yielded.
        self.items = 0
        #: Seconds the producer waited on full buffers (backpressure).
        self.waited = 0.0
        #: Whether one reader saves the items (see ``SAVER``).
        self.saves = SAVER in self._receives

    def reader(self, name: str) -> StreamReader:
        """Reader ``name``'s iterator (each reader's is handed out once).

        Raises:
            KeyError: For a reader this stream was not opened for.
        """
        receive = self._receives.pop(name)
        self._taken[name] = receive
        return StreamReader(self, receive)

    async def feed(self, items: AsyncIterator[Any]) -> None:
        """Send every item of ``items`` to every reader, then end their
        iteration; if ``items`` raises, end it with that exception."""
        try:
            async for item in items:
                await self._send(item)
        except BaseException as exc:
            if not isinstance(exc, anyio.get_cancelled_exc_class()):
                self.error = exc
            raise
        finally:
            self.close()

    async def _send(self, item: Any) -> None:
        for name, send in list(self._sends.items()):
            try:
                send.send_nowait(item)
                continue
            except anyio.WouldBlock:
                pass
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._sends.pop(name).close()  # the reader stopped: drop it
                continue
            start = perf_counter()
            try:
                await send.send(item)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                self._sends.pop(name).close()
            finally:
                self.waited += perf_counter() - start
        self.items += 1

    def close(self) -> None:
        """End every reader's iteration, after the items already sent: a
        reader handed out later still gets them (a consumer may start after a
        quick producer has finished)."""
        for send in self._sends.values():
            send.close()
        self._sends.clear()

    def close_reader(self, name: str) -> None:
        """Reader ``name``'s node is done with it, read to the end or not: the
        producer stops sending there."""
        receive = self._receives.pop(name, None) or self._taken.get(name)
        if receive is not None:
            receive.close()

    def discard(self) -> None:
        """The run is over: close both ends of every reader, those nobody took
        (their consumer never ran), those a failed consumer left unfinished,
        and a producer's that never fed."""
        self.close()
        for receive in self._ends:
            receive.close()
        self._receives.clear()


class StreamReader:
    """One reader's items: ``async for item in reader``, or, in a worker
    thread, ``for item in reader.in_thread()``."""

    def __init__(self, stream: Stream, receive: MemoryObjectReceiveStream[Any]) -> None:
        self._stream = stream
        self._receive = receive

    def __repr__(self) -> str:
        return f"<stream of '{self._stream.name}'>"

    def __aiter__(self) -> StreamReader:
        return self

    async def __anext__(self) -> Any:
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._receive.close()
            if self._stream.error is not None:
                raise self._stream.error from None
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        """Stop reading: the producer stops sending here."""
        self._receive.close()

    def in_thread(self) -> Iterator[Any]:
        """The items as a plain iterator, for a sync node in a worker thread
        (each item is awaited on the run's event loop)."""
        try:
            while True:
                try:
                    yield anyio.from_thread.run(self.__anext__)
                except StopAsyncIteration:
                    return
        finally:
            # Closed on the loop (memory streams are not thread-safe); a
            # generator finalised elsewhere is closed by its node's end.
            with contextlib.suppress(RuntimeError, anyio.NoEventLoopError):
                anyio.from_thread.run_sync(self._receive.close)
