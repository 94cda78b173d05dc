"""``runner.stream(...)``: a run seen as its events, in an ``async with`` block."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagloop.runner._events import RunEvent, Subscriber


class RunStream:
    """A run in progress, from :meth:`AbstractRunner.stream`.

    ``async for event in run:`` yields its :class:`RunEvent` s in order and ends
    when the run ends. Once the ``async with`` block is over, :attr:`outputs` is
    what ``arun()`` would have returned.
    """

    def __init__(self, subscriber: Subscriber) -> None:
        """Read the run's events from ``subscriber``."""
        self._subscriber = subscriber
        self._outputs: dict[str, Any] | None = None
        self._failure: BaseException | None = None
        self._pending: deque[RunEvent] = deque()
        #: The iteration saw the run's last event.
        self.drained = False

    @property
    def outputs(self) -> dict[str, Any]:
        """``{output name: dataset}``, as ``arun()`` returns them.

        Raises:
            RuntimeError: Before the run has finished, or when it failed.
        """
        if self._outputs is None:
            raise RuntimeError(
                "The run has no outputs: it has not finished (read them after the "
                "`async with runner.stream(...)` block) or it failed."
            )
        return self._outputs

    @property
    def dropped(self) -> int:
        """Dataset events this stream lost because its reader lagged behind."""
        return self._subscriber.dropped

    def __aiter__(self) -> RunStream:
        return self

    async def __anext__(self) -> RunEvent:
        # A plain iterator, not an async generator: a reader that breaks out
        # leaves nothing suspended behind.
        if not self._pending:
            self._pending = deque(await self._subscriber.next_batch())
            if not self._pending:
                self.drained = True
                raise StopAsyncIteration
        return self._pending.popleft()
