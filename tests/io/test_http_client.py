"""The shared, reference-counted ``httpx.AsyncClient`` of each event loop."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import httpx
import pytest

from dagloop._bridge import run_sync
from dagloop.io._http_client import (
    default_client,
    shared_http_client,
    using_client_factory,
)
from tests.io.http_fakes import ClientRecorder, EchoApp

pytestmark = pytest.mark.anyio


class SlowClosingTransport(httpx.AsyncBaseTransport):
    """A transport whose ``aclose`` must reach a checkpoint to finish closing."""

    def __init__(self) -> None:
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(204)

    async def aclose(self) -> None:
        await anyio.lowlevel.checkpoint()  # an unshielded, cancelled caller stops here
        self.closed = True


async def test_nested_holders_share_and_the_last_one_closes() -> None:
    recorder = ClientRecorder(EchoApp())
    with using_client_factory(recorder):
        async with shared_http_client() as outer:
            async with shared_http_client() as inner:
                assert inner is outer
            assert not outer.is_closed
        assert outer.is_closed
    assert recorder.clients == [outer]


async def test_concurrent_holders_share_one_client() -> None:
    recorder = ClientRecorder(EchoApp())
    seen: list[httpx.AsyncClient] = []
    all_in, release = anyio.Event(), anyio.Event()

    async def hold() -> None:
        async with shared_http_client() as client:
            seen.append(client)
            if len(seen) == 3:
                all_in.set()
            await release.wait()

    with using_client_factory(recorder):
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(hold)
            await all_in.wait()
            assert not seen[0].is_closed
            release.set()
    assert len(recorder.clients) == 1
    assert seen == recorder.clients * 3
    assert recorder.clients[0].is_closed


async def test_a_new_client_after_the_last_holder_left() -> None:
    recorder = ClientRecorder(EchoApp())
    with using_client_factory(recorder):
        async with shared_http_client() as first:
            pass
        async with shared_http_client() as second:
            assert second is not first
            assert not second.is_closed
    assert first.is_closed
    assert second.is_closed


async def test_a_cancelled_last_holder_still_closes_the_client() -> None:
    transport = SlowClosingTransport()
    with (
        using_client_factory(lambda: default_client(transport=transport)),
        anyio.CancelScope() as scope,
    ):
        async with shared_http_client():
            scope.cancel()
            await anyio.sleep_forever()
    assert scope.cancelled_caught
    assert transport.closed


async def test_the_factory_setting_ends_with_its_block() -> None:
    recorder = ClientRecorder(EchoApp())
    with using_client_factory(recorder):
        pass
    async with shared_http_client() as client:
        assert recorder.clients == []
        assert client.follow_redirects


async def test_each_event_loop_has_its_own_client() -> None:
    async def borrow() -> httpx.AsyncClient:
        async with shared_http_client() as client:
            return client

    async with shared_http_client() as ours:
        # A sync call from the loop's thread runs on a second loop, in a helper thread.
        theirs = run_sync(borrow)
        assert theirs is not ours
        assert theirs.is_closed
        assert not ours.is_closed


async def test_default_client_follows_redirects_unless_overridden() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(301, headers={"location": "/new"})
        return httpx.Response(200, text=request.url.path)

    transport = httpx.MockTransport(handler)
    async with default_client(transport=transport) as client:
        assert (await client.get("http://test/old")).text == "/new"
    async with default_client(transport=transport, follow_redirects=False) as client:
        assert (await client.get("http://test/old")).status_code == 301
