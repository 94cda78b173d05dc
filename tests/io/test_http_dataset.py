"""``HTTPDataset`` against a local ASGI app and a real loopback HTTP server."""

from __future__ import annotations

import base64
import json
import socket
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
import httpx
import pytest

from dagloop.io import DataCatalog, DatasetError, HTTPDataset
from dagloop.io._http_client import shared_http_client, using_client_factory
from tests.io.http_fakes import (
    JSON_BODY,
    ClientRecorder,
    EchoApp,
    LoopbackServer,
    run_loopback_server,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

APP_URL = "http://app.test"


@pytest.fixture
def app() -> Iterator[EchoApp]:
    """An ASGI app that every shared client created in the test talks to."""
    echo_app = EchoApp()
    with using_client_factory(ClientRecorder(echo_app)):
        yield echo_app


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    yield from run_loopback_server()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# ------------------------------------------------------------------ loading


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("response_format", "expected"),
    [
        ("json", JSON_BODY),
        ("text", json.dumps(JSON_BODY)),
        ("bytes", json.dumps(JSON_BODY).encode()),
    ],
)
async def test_load_decodes_the_body(
    app: EchoApp, response_format: Any, expected: object
) -> None:
    dataset = HTTPDataset(f"{APP_URL}/json", response_format=response_format)
    assert await dataset.aload() == expected


@pytest.mark.anyio
async def test_load_sends_params_headers_and_load_args(app: EchoApp) -> None:
    dataset = HTTPDataset(
        f"{APP_URL}/echo",
        method="post",
        params={"city": "Oslo", "days": 3},
        headers={"X-Api": "v1", "X-Keep": "yes"},
        load_args={"json": {"q": 1}, "headers": {"x-api": "v2"}, "params": {"days": 5}},
    )
    echoed = await dataset.aload()
    assert echoed["method"] == "POST"
    assert echoed["query"] == {"city": "Oslo", "days": "5"}
    assert echoed["headers"]["x-api"] == "v2"
    assert echoed["headers"]["x-keep"] == "yes"
    assert json.loads(echoed["body"]) == {"q": 1}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("auth_kwargs", "expected"),
    [
        ({"auth": ("ann", "pw1")}, _basic("ann", "pw1")),
        ({"auth": httpx.BasicAuth("bob", "pw2")}, _basic("bob", "pw2")),
        ({"credentials": {"username": "cy", "password": "pw3"}}, _basic("cy", "pw3")),
        ({"credentials": ["dee", "pw4"]}, _basic("dee", "pw4")),
        ({"credentials": {"token": "tok5"}}, "Bearer tok5"),
    ],
)
async def test_auth_sets_the_authorization_header(
    app: EchoApp, auth_kwargs: dict[str, Any], expected: str
) -> None:
    dataset = HTTPDataset(f"{APP_URL}/echo", **auth_kwargs)
    assert (await dataset.aload())["headers"]["authorization"] == expected


@pytest.mark.anyio
async def test_redirects_are_followed(app: EchoApp) -> None:
    assert await HTTPDataset(f"{APP_URL}/redirect").aload() == JSON_BODY


# ------------------------------------------------------------------- saving


@pytest.mark.anyio
async def test_save_posts_json_by_default(app: EchoApp) -> None:
    await HTTPDataset(f"{APP_URL}/echo", params={"v": "1"}).asave({"a": [1, 2]})
    (request,) = app.received
    assert (request.method, request.target) == ("POST", "/echo?v=1")
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {"a": [1, 2]}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fmt", "data", "body", "content_type"),
    [
        ("text", "héllo", "héllo".encode(), "text/plain; charset=utf-8"),
        ("bytes", b"\x00\x01", b"\x00\x01", "application/octet-stream"),
    ],
)
async def test_save_text_and_bytes(
    app: EchoApp, fmt: str, data: object, body: bytes, content_type: str
) -> None:
    save_args = {"method": "put", "format": fmt}
    await HTTPDataset(f"{APP_URL}/echo", save_args=save_args).asave(data)
    (request,) = app.received
    assert (request.method, request.body) == ("PUT", body)
    assert request.headers["content-type"] == content_type


@pytest.mark.anyio
async def test_configured_content_type_wins_over_the_format_default(
    app: EchoApp,
) -> None:
    headers = {"content-type": "text/csv"}
    dataset = HTTPDataset(
        f"{APP_URL}/echo", headers=headers, save_args={"format": "text"}
    )
    await dataset.asave("a,b\n")
    assert app.received[0].headers["content-type"] == "text/csv"


@pytest.mark.anyio
async def test_save_rejects_data_that_does_not_match_the_format(app: EchoApp) -> None:
    dataset = HTTPDataset(f"{APP_URL}/echo", save_args={"format": "bytes"})
    with pytest.raises(DatasetError, match=r"(?s)Failed while saving data.*got str"):
        await dataset.asave("not bytes")
    assert app.received == []


# ------------------------------------------------------------------- errors


@pytest.mark.anyio
@pytest.mark.parametrize("status", [404, 500])
async def test_error_status_raises_with_status_method_url_and_body(
    app: EchoApp, status: int
) -> None:
    url = f"{APP_URL}/status/{status}"
    with pytest.raises(DatasetError) as info:
        await HTTPDataset(url).aload()
    message = str(info.value)
    assert message.startswith("Failed while loading data from dataset")
    assert f"GET {url} returned HTTP {status}" in message
    assert f"error body {status}" in message
    assert isinstance(info.value.__cause__, httpx.HTTPStatusError)
    assert info.value.__cause__.response.status_code == status


@pytest.mark.anyio
async def test_save_error_names_the_save_method(app: EchoApp) -> None:
    dataset = HTTPDataset(f"{APP_URL}/status/409", save_args={"method": "PATCH"})
    with pytest.raises(DatasetError, match=r"saving.*\nPATCH \S+ returned HTTP 409"):
        await dataset.asave({"x": 1})


@pytest.mark.anyio
async def test_a_body_that_is_not_json_raises(app: EchoApp) -> None:
    with pytest.raises(DatasetError, match=r"not JSON.*response_format=.text.") as info:
        await HTTPDataset(f"{APP_URL}/not-json").aload()
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.anyio
async def test_connection_refused_raises(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/json"
    with pytest.raises(DatasetError, match="Check the URL") as info:
        await HTTPDataset(url).aload()
    assert f"GET {url} failed: ConnectError" in str(info.value)
    assert isinstance(info.value.__cause__, httpx.ConnectError)


@pytest.mark.anyio
async def test_timeout_raises(server: LoopbackServer) -> None:
    url = f"{server.url}/hang"
    with pytest.raises(DatasetError, match="did not answer in time") as info:
        await HTTPDataset(url, timeout=0.2).aload()
    assert f"GET {url} failed: ReadTimeout" in str(info.value)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)


# ------------------------------------------------------------------- exists


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "expected"), [("/json", True), ("/status/404", False)]
)
async def test_exists_sends_head(app: EchoApp, path: str, expected: bool) -> None:
    assert await HTTPDataset(f"{APP_URL}{path}").aexists() is expected
    assert [r.method for r in app.received] == ["HEAD"]


@pytest.mark.anyio
async def test_exists_raises_when_no_answer_comes(closed_port: int) -> None:
    dataset = HTTPDataset(f"http://127.0.0.1:{closed_port}/json")
    with pytest.raises(
        DatasetError, match=r"(?s)Failed during exists check.*ConnectError"
    ):
        await dataset.aexists()


# -------------------------------------------------- configuration and repr


def test_repr_shows_the_request_but_no_secrets() -> None:
    dataset = HTTPDataset(
        "https://me:urlpass@api.test/items",
        params={"page": 2},
        credentials={"token": "sekrit"},
        headers={"X-Token": "hdrsecret"},
    )
    text = repr(dataset)
    assert text == (
        "dagloop.io.http_dataset.HTTPDataset(url='https://me:***@api.test/items', "
        "method='GET', params={'page': 2}, response_format='json')"
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"url": "api.test/items"}, "absolute http"),
        ({"url": "ftp://api.test/x"}, "absolute http"),
        ({"response_format": "xml"}, "'response_format' must be one of"),
        ({"save_args": {"format": "csv"}}, "save_args 'format' must be one of"),
        ({"auth": ("a", "b"), "credentials": {"token": "t"}}, "both 'auth' and"),
        ({"auth": "user:pass"}, "'auth' must be a"),
        ({"credentials": {"user": "u", "pass": "hidden"}}, r"keys \['pass', 'user'\]"),
        ({"load_args": {"method": "PUT"}}, r"cannot set \['method'\]"),
    ],
)
def test_invalid_configuration_is_rejected(kwargs: dict[str, Any], match: str) -> None:
    arguments = {"url": "http://api.test/x", **kwargs}
    with pytest.raises(DatasetError, match=match) as info:
        HTTPDataset(**arguments)
    assert "hidden" not in str(info.value)


def test_catalog_builds_it_from_config_with_credentials(server: LoopbackServer) -> None:
    catalog = DataCatalog.from_config(
        {
            "api": {
                "type": "HTTPDataset",
                "url": f"{server.url}/echo",
                "credentials": "c",
            }
        },
        credentials={"c": {"token": "t0k"}},
    )
    assert catalog.load("api")["headers"]["authorization"] == "Bearer t0k"


# ------------------------------------------------------- sync faces (bridge)


def test_sync_load_save_and_exists_outside_any_loop(server: LoopbackServer) -> None:
    dataset = HTTPDataset(f"{server.url}/echo")
    assert dataset.load()["method"] == "GET"
    dataset.save({"k": "v"})
    assert dataset.exists()
    assert [r.method for r in server.received] == ["GET", "POST", "HEAD"]
    assert json.loads(server.received[1].body) == {"k": "v"}


@pytest.mark.anyio
async def test_sync_load_inside_a_running_loop(server: LoopbackServer) -> None:
    # Jupyter-style: blocking call from the loop's thread; runs on a helper loop.
    assert HTTPDataset(f"{server.url}/json").load() == JSON_BODY


@pytest.mark.anyio
async def test_sync_load_in_a_worker_thread_uses_the_loops_client(
    server: LoopbackServer,
) -> None:
    recorder = ClientRecorder()
    dataset = HTTPDataset(f"{server.url}/json")
    with using_client_factory(recorder):
        async with shared_http_client():
            assert await dataset.aload() == JSON_BODY
            assert await anyio.to_thread.run_sync(dataset.load) == JSON_BODY
    assert len(recorder.clients) == 1
    assert server.connections == 1


# ----------------------------------------------------- pooling and leaks


@pytest.mark.anyio
async def test_loads_in_a_shared_session_reuse_one_connection(
    server: LoopbackServer,
) -> None:
    dataset = HTTPDataset(f"{server.url}/json")
    async with shared_http_client() as client:
        for _ in range(10):
            assert await dataset.aload() == JSON_BODY
    assert client.is_closed
    assert (len(server.received), server.connections) == (10, 1)


@pytest.mark.anyio
async def test_loads_outside_a_session_close_their_client(
    server: LoopbackServer,
) -> None:
    recorder = ClientRecorder()
    dataset = HTTPDataset(f"{server.url}/json")
    with using_client_factory(recorder):
        for _ in range(3):
            await dataset.aload()
    assert len(recorder.clients) == 3
    assert all(client.is_closed for client in recorder.clients)
    assert server.connections == 3


@pytest.mark.anyio
async def test_concurrent_loads_share_one_client(app: EchoApp) -> None:
    recorder = ClientRecorder(app)
    datasets = [HTTPDataset(f"{APP_URL}/echo", params={"i": i}) for i in range(20)]
    with using_client_factory(recorder):
        async with shared_http_client(), anyio.create_task_group() as tg:
            for dataset in datasets:
                tg.start_soon(dataset.aload)
    assert len(app.received) == 20
    (client,) = recorder.clients
    assert client.is_closed


@pytest.mark.anyio
async def test_fifty_concurrent_loads_are_in_flight_together(
    server: LoopbackServer,
) -> None:
    dataset = HTTPDataset(f"{server.url}/gather", params={"n": 50})
    results: list[object] = []

    async def load() -> None:
        results.append(await dataset.aload())

    async with shared_http_client(), anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(load)
    assert results == [JSON_BODY] * 50
    assert server.max_in_flight == 50
