"""``RateLimit``: a provider's quota, "at most 10 requests per second".

A concurrency limit bounds how many nodes run at once; a quota bounds how many
start in a window of time. One ``RateLimit`` object given to several runs is one
quota for all of them: its state lives in the object, behind a thread lock, so
runs on one event loop (``arun()`` per request in a web app) and runs in other
threads (``run()`` has a loop of its own) draw from it together. Waiting is a
sleep on the waiter's own loop (asyncio or trio) until the window frees a start.

It counts starts in a sliding window, exactly: a leaky bucket (aiolimiter's) lets
bursts through at the edges of a window and serves one asyncio loop only.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

import anyio

__all__ = ["MARGIN", "RateLimit"]

#: Seconds a start stays in the window beyond ``per``. A start is taken just
#: before the node's function runs, but another thread may hold the GIL between
#: the two (Python switches threads every 5 ms): the margin keeps the function
#: calls themselves, not only the grants, within the quota.
MARGIN = 0.01


class RateLimit:
    """At most ``rate`` starts in any window of ``per`` seconds.

    Given in a runner's ``limits=`` for a tag (``{"api": RateLimit(10)}``, or
    with a concurrency limit, ``{"api": (4, RateLimit(10))}``), every attempt of
    a node carrying the tag (its retries too) takes a start: the node waits,
    holding its place, until the window has room. A start leaves the window
    ``MARGIN`` (10 ms) after ``per``, so a quota is kept, not just met.
    """

    def __init__(self, rate: int, per: float = 1.0) -> None:
        """Allow ``rate`` starts per ``per`` seconds.

        Raises:
            ValueError: For a ``rate`` that is not a positive int, or a ``per``
                that is not a positive, finite number of seconds.
        """
        if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
            raise ValueError(f"rate should be a positive int, got {rate!r}")
        if (
            isinstance(per, bool)
            or not isinstance(per, int | float)
            or not math.isfinite(per)
            or per <= 0
        ):
            raise ValueError(f"per should be a positive number of seconds, got {per!r}")
        self.rate = rate
        self.per = float(per)
        # The starts still inside the window, oldest first; guarded by the lock
        # because runs in other threads (other event loops) share this object.
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RateLimit({self.rate}, per={self.per:g})"

    def _take(self) -> float:
        """Take a start now if the window has room (returns 0), else return
        the seconds until the oldest start leaves the window."""
        with self._lock:
            now = time.monotonic()
            starts = self._starts
            span = self.per + MARGIN
            while starts and now - starts[0] >= span:
                starts.popleft()
            if len(starts) < self.rate:
                starts.append(now)
                return 0.0
            return starts[0] + span - now

    async def acquire(self) -> float:
        """Wait for a start and take it; return the seconds waited."""
        waited = 0.0
        while (wait := self._take()) > 0:
            await anyio.sleep(wait)
            waited += wait
        return waited
