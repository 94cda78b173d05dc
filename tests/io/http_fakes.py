"""Local HTTP endpoints for the HTTP dataset tests: an ASGI app and a loopback server.

Both answer the same routes (see :func:`respond`) and record what they received.
:class:`LoopbackServer` is a real HTTP/1.1 server on 127.0.0.1 (an ephemeral port),
running on its own event loop in a background thread, so it also serves sync
``load()`` calls and calls that block the test's loop. It counts the connections it
accepted and the most requests it was handling at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import anyio
import anyio.from_thread
import h11
import httpx
from anyio.abc import SocketAttribute

from dagloop.io._http_client import default_client

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from anyio.abc import SocketStream, TaskStatus

JSON_BODY = {"hello": "world", "n": [1, 2, 3]}

Reply = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Received:
    """One request as the server saw it (header names lowercased)."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query))


def respond(request: Received) -> Reply:
    """The reply to ``request``; the routes every fake endpoint serves.

    * ``/json``: a JSON document (:data:`JSON_BODY`);
    * ``/echo``: the request itself, as JSON;
    * ``/status/<code>``: that status, with a short text body;
    * ``/redirect``: a 302 to ``/json``;
    * ``/not-json``: a 200 whose body is not JSON.
    """
    if request.path == "/json":
        return 200, {"content-type": "application/json"}, json.dumps(JSON_BODY).encode()
    if request.path == "/echo":
        return 200, {"content-type": "application/json"}, _echo(request)
    if request.path.startswith("/status/"):
        code = int(request.path.rsplit("/", 1)[1])
        return code, {"content-type": "text/plain"}, f"error body {code}".encode()
    if request.path == "/redirect":
        return 302, {"location": "/json"}, b""
    if request.path == "/not-json":
        return 200, {"content-type": "text/html"}, b"<html>hi</html>"
    return 404, {}, b"no such route"


def _echo(request: Received) -> bytes:
    echoed = {
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": request.headers,
        "body": request.body.decode("latin-1"),
    }
    return json.dumps(echoed).encode()


@dataclass
class EchoApp:
    """An ASGI app serving :func:`respond`, for ``httpx.ASGITransport``."""

    received: list[Received] = field(default_factory=list)

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        assert scope["type"] == "http"
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        query = scope["query_string"].decode()
        target = scope["path"] + (f"?{query}" if query else "")
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        request = Received(scope["method"], target, headers, body)
        self.received.append(request)
        status, reply_headers, payload = respond(request)
        raw_headers = [(k.encode(), v.encode()) for k, v in reply_headers.items()]
        await send(
            {"type": "http.response.start", "status": status, "headers": raw_headers}
        )
        await send({"type": "http.response.body", "body": payload})


@dataclass
class LoopbackServer:
    """A real HTTP/1.1 server on 127.0.0.1 with keep-alive, for client-side tests.

    Extra routes: ``/hang`` never answers (for timeouts); ``/gather?n=N`` holds each
    request until N are in progress at once (at most 5 s), then answers, so a client
    that sends them one at a time would show ``max_in_flight == 1``.
    """

    port: int = 0
    connections: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    received: list[Received] = field(default_factory=list)
    _gathered: anyio.Event | None = None
    _scope: anyio.CancelScope | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def serve(self, *, task_status: TaskStatus[int]) -> None:
        """Listen until cancelled through :meth:`stop`; reports the port when ready."""
        with anyio.CancelScope() as self._scope:
            listener = await anyio.create_tcp_listener(
                local_host="127.0.0.1", local_port=0
            )
            async with listener:
                task_status.started(listener.extra(SocketAttribute.local_port))
                await listener.serve(self._serve_connection)

    def stop(self) -> None:
        assert self._scope is not None
        self._scope.cancel()

    async def _serve_connection(self, stream: SocketStream) -> None:
        self.connections += 1
        connection = h11.Connection(h11.SERVER)
        async with stream:
            while (request := await _read_request(connection, stream)) is not None:
                reply = await self._handle(request)
                head_only = request.method == "HEAD"
                await _write_reply(connection, stream, reply, head_only=head_only)
                if connection.our_state is not h11.DONE:
                    return
                connection.start_next_cycle()

    async def _handle(self, request: Received) -> Reply:
        self.received.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if request.path == "/hang":
                await anyio.sleep_forever()
            if request.path == "/gather":
                await self._gather(int(request.query["n"]))
                return respond(replace(request, target="/json"))
            return respond(request)
        finally:
            self.in_flight -= 1

    async def _gather(self, expected: int) -> None:
        if self._gathered is None:
            self._gathered = anyio.Event()
        if self.in_flight >= expected:
            self._gathered.set()
        with anyio.move_on_after(5):
            await self._gathered.wait()
        self._gathered.set()  # gave up waiting: let the rest through at once


async def _read_request(
    connection: h11.Connection, stream: SocketStream
) -> Received | None:
    """The next request on the connection, or None once the client has gone."""
    head: h11.Request | None = None
    body = b""
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            try:
                connection.receive_data(await stream.receive())
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return None
        elif isinstance(event, h11.Request):
            head = event
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            headers = {k.decode().lower(): v.decode() for k, v in head.headers}
            return Received(head.method.decode(), head.target.decode(), headers, body)
        else:  # ConnectionClosed, PAUSED
            return None


async def _write_reply(
    connection: h11.Connection, stream: SocketStream, reply: Reply, *, head_only: bool
) -> None:
    status, headers, body = reply
    all_headers = [*headers.items(), ("content-length", str(len(body)))]
    events: list[Any] = [h11.Response(status_code=status, headers=all_headers)]
    if not head_only:  # a HEAD reply announces the body's length but sends none
        events.append(h11.Data(data=body))
    events.append(h11.EndOfMessage())
    for event in events:
        data = connection.send(event)
        if data:
            await stream.send(data)


def run_loopback_server() -> Iterator[LoopbackServer]:
    """Start a :class:`LoopbackServer` in a thread; the generator form of a fixture."""
    server = LoopbackServer()
    with anyio.from_thread.start_blocking_portal("asyncio") as portal:
        future, server.port = portal.start_task(server.serve)
        try:
            yield server
        finally:
            portal.call(server.stop)
            future.result()


@dataclass
class ClientRecorder:
    """A client factory for ``using_client_factory`` that keeps every client it made.

    With an ``app``, clients talk to it through ``httpx.ASGITransport``; without, they
    use the network (the loopback server).
    """

    app: EchoApp | None = None
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def __call__(self) -> httpx.AsyncClient:
        if self.app is None:
            client = default_client()
        else:
            client = default_client(transport=httpx.ASGITransport(app=self.app))
        self.clients.append(client)
        return client
