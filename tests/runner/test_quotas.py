"""RateLimit quotas in limits=, and retries that wait what a server asked.

Quota tests record when each attempt really started (inside the node) and check
every window of ``per`` seconds against the rate; nothing is timed against a
threshold.
"""

from __future__ import annotations

import asyncio
import email.utils
import threading
import time
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import Pipeline, node
from dagloop.runner import RateLimit, SequentialRunner, ThreadRunner, _node_run
from tests._http import JSONHandler

if TYPE_CHECKING:
    from collections.abc import Iterator

STARTS: list[float] = []
LOCK = threading.Lock()


def _record() -> None:
    with LOCK:
        STARTS.append(time.monotonic())


async def call_api(x: int) -> int:
    _record()
    await anyio.lowlevel.checkpoint()
    return x


def call_api_sync(x: int) -> int:
    _record()
    return x


def max_in_window(starts: list[float], per: float) -> int:
    """The most starts inside any window of ``per`` seconds."""
    starts = sorted(starts)
    most, first = 0, 0
    for last, at in enumerate(starts):
        while at - starts[first] >= per:
            first += 1
        most = max(most, last - first + 1)
    return most


def fan_out(count: int, func: Any = call_api, prefix: str = "") -> Pipeline:
    return Pipeline(
        [
            node(func, "x", f"{prefix}out_{i}", name=f"{prefix}call_{i}", tags=["api"])
            for i in range(count)
        ]
    )


@pytest.fixture(autouse=True)
def _fresh_starts() -> Iterator[None]:
    STARTS.clear()
    yield
    STARTS.clear()


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_starts_stay_within_the_quota(backend: str) -> None:
    quota = RateLimit(3, per=0.2)

    async def main() -> None:
        await ThreadRunner(limits={"api": quota}).arun(
            fan_out(10), DataCatalog({"x": MemoryDataset(1)})
        )

    anyio.run(main, backend=backend)
    assert len(STARTS) == 10
    assert max_in_window(STARTS, 0.2) == 3  # used fully, never exceeded


def test_one_quota_is_shared_by_concurrent_runs_on_one_loop() -> None:
    quota = RateLimit(4, per=0.25)

    async def request(i: int) -> None:
        await ThreadRunner(limits={"api": quota}).arun(
            fan_out(5, prefix=f"r{i}_"), DataCatalog({"x": MemoryDataset(i)})
        )

    async def main() -> None:
        await asyncio.gather(*(request(i) for i in range(4)))

    asyncio.run(main())
    assert len(STARTS) == 20
    assert max_in_window(STARTS, 0.25) == 4


def test_one_quota_is_shared_by_runs_in_other_threads() -> None:
    quota = RateLimit(3, per=0.2)

    def run(i: int) -> None:
        SequentialRunner(limits={"api": quota}).run(
            fan_out(4, func=call_api_sync, prefix=f"t{i}_"),
            DataCatalog({"x": MemoryDataset(i)}),
        )

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(STARTS) == 12
    assert max_in_window(STARTS, 0.2) == 3


RUNNING = [0]
MOST = [0]


async def call_api_slowly(x: int) -> int:
    _record()
    with LOCK:
        RUNNING[0] += 1
        MOST[0] = max(MOST[0], RUNNING[0])
    await anyio.sleep(0.05)
    with LOCK:
        RUNNING[0] -= 1
    return x


def test_a_quota_and_a_concurrency_limit_for_one_tag_both_hold() -> None:
    MOST[0] = 0
    ThreadRunner(limits={"api": (2, RateLimit(5, per=0.2))}).run(
        fan_out(12, func=call_api_slowly), DataCatalog({"x": MemoryDataset(1)})
    )
    assert MOST[0] == 2
    assert max_in_window(STARTS, 0.2) <= 5


FAILS_LEFT = [0]


def flaky(x: int) -> int:
    _record()
    with LOCK:
        FAILS_LEFT[0] -= 1
        if FAILS_LEFT[0] >= 0:
            raise RuntimeError("try again")
    return x


def test_every_attempt_takes_a_start() -> None:
    FAILS_LEFT[0] = 3
    pipe = Pipeline(
        [node(flaky, "x", "y", name="flaky", tags=["api"], retries=3, retry_delay=0)]
    )
    SequentialRunner(limits={"api": RateLimit(2, per=0.2)}).run(
        pipe, DataCatalog({"x": MemoryDataset(1)})
    )
    assert len(STARTS) == 4  # three failures and the success
    assert max_in_window(STARTS, 0.2) == 2


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ((2, 3), "at most one int"),
        ("3", "a positive int, a RateLimit"),
        ((), "a positive int, a RateLimit"),
    ],
)
def test_bad_limits_are_refused_naming_the_tag(given: Any, message: str) -> None:
    with pytest.raises(ValueError, match="tag 'api'"):
        ThreadRunner(limits={"api": given})


@pytest.mark.parametrize(("rate", "per"), [(0, 1), (1.5, 1), (2, 0), (2, float("inf"))])
def test_a_rate_limit_needs_a_positive_rate_and_window(rate: Any, per: Any) -> None:
    with pytest.raises(ValueError, match="should be a positive"):
        RateLimit(rate, per)


def test_an_unused_quota_tag_is_warned_about() -> None:
    with pytest.warns(UserWarning, match=r"\['nobody'\]"):
        ThreadRunner(limits={"nobody": RateLimit(1)}).run(
            fan_out(1), DataCatalog({"x": MemoryDataset(1)})
        )


# ------------------------------------------------------------------ Retry-After


def _status_error(status: int, retry_after: str | None) -> httpx.HTTPStatusError:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    request = httpx.Request("GET", "http://127.0.0.1/x")
    response = httpx.Response(status, headers=headers, request=request)
    return httpx.HTTPStatusError("busy", request=request, response=response)


def test_retry_after_is_read_from_429_and_503_responses() -> None:
    later = email.utils.format_datetime(
        __import__("datetime").datetime.now(__import__("datetime").UTC)
        + __import__("datetime").timedelta(seconds=30),
        usegmt=True,
    )
    assert _node_run.retry_after(_status_error(429, "7")) == 7.0
    assert _node_run.retry_after(_status_error(503, "0")) == 0.0
    assert 25 < (_node_run.retry_after(_status_error(429, later)) or 0) <= 30
    assert _node_run.retry_after(_status_error(500, "7")) is None
    assert _node_run.retry_after(_status_error(429, None)) is None
    assert _node_run.retry_after(_status_error(429, "soon")) is None
    error = RuntimeError("rate limited")
    error.retry_after = 2.5  # type: ignore[attr-defined]
    assert _node_run.retry_after(error) == 2.5
    assert _node_run.retry_after(ValueError("x")) is None


class _Busy(JSONHandler):
    """429 with Retry-After until told otherwise, then 200."""

    busy_left = 0
    retry_after = "0"

    def do_GET(self) -> None:
        cls = type(self)
        if cls.busy_left > 0:
            cls.busy_left -= 1
            self.send_json(429, {"error": "busy"}, {"Retry-After": cls.retry_after})
            return
        self.send_json(200, {"ok": True})


@pytest.fixture
def busy_server() -> Iterator[str]:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Busy) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{server.server_address[1]}/quote"
        server.shutdown()


async def fetch(url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(url)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


@pytest.mark.timeout(20)  # the node's own backoff (an hour) would fail this
def test_a_retry_waits_what_the_server_asked_not_the_backoff(busy_server: str) -> None:
    _Busy.busy_left, _Busy.retry_after = 2, "0"
    pipe = Pipeline(
        [node(fetch, "url", "quote", name="fetch", retries=2, retry_delay=3600)]
    )
    events: list[Any] = []
    outputs = ThreadRunner().run(
        pipe, DataCatalog({"url": MemoryDataset(busy_server)}), on_event=events.append
    )
    assert outputs["quote"].load() == {"ok": True}
    assert [e.attempt for e in events if e.kind == "node_retrying"] == [1, 2]


@pytest.mark.timeout(20)
def test_a_retry_after_beyond_the_maximum_is_cut_to_it(
    busy_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_node_run, "RETRY_AFTER_MAX", 0.05)
    _Busy.busy_left, _Busy.retry_after = 1, "86400"
    pipe = Pipeline(
        [node(fetch, "url", "quote", name="fetch", retries=1, retry_delay=3600)]
    )
    outputs = SequentialRunner().run(
        pipe, DataCatalog({"url": MemoryDataset(busy_server)})
    )
    assert outputs["quote"].load() == {"ok": True}
