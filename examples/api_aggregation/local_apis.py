"""Stand-in APIs for the aggregation job: one local HTTP server per "host".

Each host is a ``ThreadingHTTPServer`` on its own loopback port, so to an HTTP
client it is a separate origin (its own connections in the pool), like
``api.weather.example`` and ``api.air.example`` would be. Every host answers
``GET /cities/<city>`` with a small JSON document after ``delay`` seconds, and
counts what it sees: requests, connections, and the most requests it was handling
at the same moment (``max_in_flight``), which is what a rate-limited API would
police.

Nothing leaves the machine: the servers listen on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: What each host serves about a city: the field name and how it is derived.
HOSTS = ("weather", "air", "events")


def payload(host: str, city: str) -> dict[str, Any]:
    """The document ``host`` serves for ``city`` (deterministic, made-up data)."""
    seed = zlib.crc32(f"{host}/{city}".encode())
    if host == "weather":
        return {"city": city, "temperature_c": round(-5 + (seed % 400) / 10, 1)}
    if host == "air":
        return {"city": city, "aqi": 10 + seed % 140}
    if host == "events":
        return {"city": city, "events": [f"{city}-event-{i}" for i in range(seed % 5)]}
    raise ValueError(f"unknown host {host!r}")


@dataclass
class HostStats:
    """What one host has seen, updated by its handler threads."""

    requests: int = 0
    connections: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class LocalAPI:
    """One host: a server on an ephemeral port of 127.0.0.1, serving in a thread."""

    def __init__(self, host: str, delay: float) -> None:
        self.host = host
        self.stats = HostStats()
        self._server = _make_server(host, delay, self.stats)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"api-{host}", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def start_hosts(
    delay: float = 0.05, hosts: tuple[str, ...] = HOSTS
) -> dict[str, LocalAPI]:
    """Start one :class:`LocalAPI` per host name; close them with :func:`stop_hosts`."""
    return {host: LocalAPI(host, delay) for host in hosts}


def stop_hosts(apis: dict[str, LocalAPI]) -> None:
    for api in apis.values():
        api.close()


def _send_json(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: Any,
    headers: dict[str, str] | None = None,
) -> None:
    """Answer ``handler``'s request with ``body`` as JSON."""
    data = json.dumps(body).encode()
    handler.send_response(status)
    for name, value in {
        "Content-Type": "application/json",
        "Content-Length": str(len(data)),
        **(headers or {}),
    }.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def _make_server(host: str, delay: float, stats: HostStats) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = (
            "HTTP/1.1"  # keep-alive: the client's pool reuses connections
        )

        def setup(self) -> None:
            super().setup()  # one handler instance per TCP connection
            with stats.lock:
                stats.connections += 1

        def do_GET(self) -> None:
            with stats.lock:
                stats.requests += 1
                stats.in_flight += 1
                stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            try:
                time.sleep(delay)  # a slow API
                prefix, _, city = self.path.rpartition("/")
                if prefix != "/cities" or not city:
                    status, body = 404, {"error": f"no such resource {self.path}"}
                else:
                    status, body = 200, payload(host, city)
            finally:
                # Leave the count *before* the answer is sent: once the client has
                # the answer it may send its next request, which must not find
                # this one still counted.
                with stats.lock:
                    stats.in_flight -= 1
            _send_json(self, status, body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024  # the default backlog of 5 would refuse a burst

    return Server(("127.0.0.1", 0), Handler)


class PagedAPI:
    """A paginated API with a published quota, on 127.0.0.1.

    ``GET /history?page=N`` answers one page of readings after ``delay``
    seconds, with ``next`` naming the following page (``null`` after the
    last). More than ``rate`` requests in any ``per`` seconds get a 429 with
    ``Retry-After: 1``, as a real provider's quota would; ``rejected`` counts
    them and ``times`` records when each request arrived.
    """

    def __init__(self, pages: int, rate: int, per: float, delay: float) -> None:
        self.pages, self.rate, self.per, self.delay = pages, rate, per, delay
        self.times: list[float] = []
        self.rejected = 0
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                _send_json(self, *api._answer(self.path))

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet

        class Server(ThreadingHTTPServer):
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="api-history", daemon=True
        )
        self._thread.start()

    def _answer(self, path: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self.times if now - t < self.per]
            if len(recent) >= self.rate:
                self.rejected += 1
                return 429, {"error": "quota exceeded"}, {"Retry-After": "1"}
            self.times.append(now)
        time.sleep(self.delay)
        prefix, _, query = path.partition("?")
        number = int(query.removeprefix("page=")) if query.startswith("page=") else -1
        if prefix != "/history" or not 0 <= number < self.pages:
            return 404, {"error": f"no such page {path}"}, {}
        readings = [round((number * 7 + i * 3) % 50 / 2, 1) for i in range(10)]
        last = number == self.pages - 1
        return (
            200,
            {
                "page": number,
                "readings": readings,
                "next": None if last else number + 1,
            },
            {},
        )

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
