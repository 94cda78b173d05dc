"""The examples in examples/ (besides seed/ and demo.py) run and do what they claim.

Examples that start worker processes (``asyncio_script.py``, ``cpu_parallel.py``)
run in a subprocess with ``sys.executable``: the workers import the ``__main__``
module to find the node functions, so the example must be the main module. The
others are imported and their ``main()`` (or app) is called here. Nothing depends
on machine speed: where concurrency matters it is observed (by the local servers,
by thread and process ids), never through a bound on elapsed time.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import importlib.util
import json
import math
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


# ------------------------------------------------------------------ helpers


def load_example(relative: str, *, search_path: Path | None = None) -> ModuleType:
    """Import ``examples/<relative>`` under a unique module name (not __main__).

    ``search_path`` is put on ``sys.path`` while the module loads, for examples
    made of several modules in one folder.
    """
    path = EXAMPLES / relative
    name = "dagloop_example_" + re.sub(r"\W", "_", relative.removesuffix(".py"))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # pydantic and dataclasses look their module up
    if search_path is not None:
        sys.path.insert(0, str(search_path))
    try:
        spec.loader.exec_module(module)
    finally:
        if search_path is not None:
            sys.path.remove(str(search_path))
    return module


class ScriptRun:
    """The outcome of ``python -W error examples/<script> <args>``, from ``cwd``."""

    def __init__(self, script: str, cwd: Path, *args: str) -> None:
        self.process = subprocess.run(
            [sys.executable, "-W", "error", str(EXAMPLES / script), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=50,
            check=False,
        )
        assert self.process.returncode == 0, self.output
        assert "Traceback" not in self.process.stderr, self.output

    @property
    def output(self) -> str:
        return (
            f"{self.process.stdout}\n--- stderr (exit {self.process.returncode}) ---\n"
            f"{self.process.stderr}"
        )

    def value(self, prefix: str) -> Any:
        """The Python literal printed after ``prefix`` on the line starting with it."""
        for line in self.process.stdout.splitlines():
            if line.startswith(prefix):
                return ast.literal_eval(line[len(prefix) :].strip())
        raise AssertionError(f"no line starting with {prefix!r} in:\n{self.output}")

    def line(self, pattern: str) -> re.Match[str]:
        """The first stdout line matching the regex ``pattern``."""
        for line in self.process.stdout.splitlines():
            match = re.fullmatch(pattern, line)
            if match:
                return match
        raise AssertionError(f"no line matching {pattern!r} in:\n{self.output}")


# --------------------------------------------------------- api_aggregation


@pytest.fixture(scope="module")
def aggregation() -> ModuleType:
    return load_example(
        "api_aggregation/aggregate.py", search_path=EXAMPLES / "api_aggregation"
    )


def expected_cities(local_apis: ModuleType, cities: tuple[str, ...]) -> dict[str, Any]:
    """What the merged record of each city must hold: every host's fields."""
    expected: dict[str, Any] = {}
    for city in sorted(cities):
        record: dict[str, Any] = {}
        for host in local_apis.HOSTS:
            fields = local_apis.payload(host, city)
            assert fields.pop("city") == city
            record.update(fields)
        expected[city] = record
    return expected


def test_api_aggregation_report_and_per_host_caps(
    aggregation: ModuleType, tmp_path: Path
) -> None:
    local_apis = sys.modules["local_apis"]
    out = tmp_path / "reports" / "report.json"
    result = aggregation.main(["--out", str(out), "--delay-ms", "100"])

    # The JSON file written through JSONDataset is the merged report.
    report = json.loads(out.read_text())
    assert report == result["report"]
    cities = expected_cities(local_apis, aggregation.CITIES)
    assert report["cities"] == cities
    assert report["summary"] == {
        "cities": 12,
        "warmest": max(cities, key=lambda c: cities[c]["temperature_c"]),
        "cleanest_air": min(cities, key=lambda c: cities[c]["aqi"]),
        "events": sum(len(c["events"]) for c in cities.values()),
    }

    # Every host got one request per city, never more at once than its cap
    # (counted by the server itself), and did get concurrent requests.
    assert aggregation.HOST_LIMITS == {"weather": 4, "air": 2, "events": 3}
    for host, seen in result["hosts"].items():
        assert seen["requests"] == len(aggregation.CITIES), host
        assert seen["cap"] == aggregation.HOST_LIMITS[host]
        assert 2 <= seen["max_in_flight"] <= seen["cap"], (host, seen)

    # The paginated history: every page, folded in as it came, within the
    # server's quota (it refused nothing; its own clock agrees).
    pages = [
        [round((n * 7 + i * 3) % 50 / 2, 1) for i in range(10)]
        for n in range(aggregation.HISTORY_PAGES)
    ]
    readings = [value for page in pages for value in page]
    assert result["history"] == {
        "pages": aggregation.HISTORY_PAGES,
        "readings": len(readings),
        "mean": round(sum(readings) / len(readings), 2),
        "peak": max(readings),
    }
    assert json.loads(out.with_name("history.json").read_text()) == result["history"]
    assert result["history_refused"] == 0
    times = sorted(result["history_requests"])
    assert len(times) == aggregation.HISTORY_PAGES
    rate, per = aggregation.HISTORY_PUBLISHED
    assert all(
        sum(1 for t in times if start <= t < start + per) <= rate for start in times
    )


def test_api_aggregation_cap_of_one_serialises_only_that_host(
    aggregation: ModuleType, tmp_path: Path
) -> None:
    """A host capped at 1 sees one request at a time; the others are unaffected."""
    local_apis = sys.modules["local_apis"]
    cities = ("oslo", "lima", "accra", "hanoi", "quito", "perth")
    limits = {"weather": 1, "air": 6, "events": 3}
    apis = local_apis.start_hosts(0.05)
    try:
        catalog = aggregation.build_catalog(
            {host: api.base_url for host, api in apis.items()},
            tmp_path / "report.json",
            cities,
        )
        aggregation.ThreadRunner().run(
            aggregation.build_pipeline(cities, limits, history=False), catalog
        )
    finally:
        local_apis.stop_hosts(apis)
    assert json.loads((tmp_path / "report.json").read_text())["cities"] == (
        expected_cities(local_apis, cities)
    )
    assert apis["weather"].stats.max_in_flight == 1
    assert 2 <= apis["air"].stats.max_in_flight <= 6
    assert 2 <= apis["events"].stats.max_in_flight <= 3
    assert all(api.stats.requests == len(cities) for api in apis.values())


# ----------------------------------------------------------- asyncio_script


def test_asyncio_script_places_nodes_where_asked(tmp_path: Path) -> None:
    run = ScriptRun("asyncio_script.py", tmp_path)
    ran = run.value("ran =")
    main = ran["main"]
    # async def nodes: coroutines on the script's own loop (its thread, its process).
    for name in ("load_readings", "summarise"):
        assert ran[name]["pid"] == main["pid"], name
        assert ran[name]["thread_id"] == main["thread_id"], name
    # executor="thread": another thread of the same process.
    assert ran["checksum"]["pid"] == main["pid"]
    assert ran["checksum"]["thread_id"] != main["thread_id"]
    # executor="process": another process.
    assert ran["sum_of_squares"]["pid"] != main["pid"]

    values = [(i * 7919) % 1000 for i in range(200_000)]
    assert run.value("summary =") == {
        "count": 200_000,
        "sha256": hashlib.sha256(repr(values).encode()).hexdigest()[:16],
        "sum_of_squares": sum(v * v for v in values),
    }
    # The heartbeat task got the loop while the run was awaited.
    ticks = int(run.line(r"heartbeat ticked (\d+) time\(s\) .*").group(1))
    assert ticks >= 1
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ webapp


WEBAPP = EXAMPLES / "webapp"


@pytest.fixture(scope="module")
def webapp() -> Iterator[ModuleType]:
    # The app's process node lives in a sibling module its workers import: the
    # folder stays on sys.path while the tests use the app, as the script's own
    # folder (or uvicorn's --app-dir) does.
    sys.path.insert(0, str(WEBAPP))
    try:
        yield load_example("webapp/app.py")
    finally:
        sys.path.remove(str(WEBAPP))


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def client(webapp: ModuleType) -> Any:
    import httpx

    webapp.app.state.stats = webapp.RunStats()
    transport = httpx.ASGITransport(app=webapp.app)  # no lifespan events: run it here
    async with (
        webapp.lifespan(webapp.app),
        httpx.AsyncClient(transport=transport, base_url="http://app") as c,
    ):
        yield c


def expected_quote(webapp: ModuleType, basket: dict[str, Any]) -> dict[str, Any]:
    """The quote for ``basket`` (without its signature), from the price list alone."""
    lines = [
        {
            "sku": sku,
            "quantity": qty,
            "unit_cents": webapp.PRICE_LIST[sku],
            "cents": qty * webapp.PRICE_LIST[sku],
        }
        for sku, qty in sorted(basket["items"].items())
    ]
    subtotal = sum(line["cents"] for line in lines)
    discount = subtotal * webapp.COUPONS[basket.get("coupon", "")] // 100
    return {
        "customer": basket["customer"],
        "lines": lines,
        "subtotal_cents": subtotal,
        "discount_cents": discount,
        "total_cents": subtotal - discount,
    }


@pytest.mark.anyio
async def test_webapp_single_request(webapp: ModuleType, client: Any) -> None:
    basket = {"customer": "ada", "items": {"apple": 6, "bread": 1}, "coupon": "HALF"}
    response = await client.post("/quote", json=basket)
    assert response.status_code == 200, response.text
    quote = response.json()
    assert unsigned(quote) == expected_quote(webapp, basket)
    assert quote["total_cents"] == (6 * 45 + 250) // 2
    assert quote["signature"] == expected_signature(webapp, basket)
    stats = (await client.get("/stats")).json()
    assert stats == {
        "served": 1,
        "peak_in_flight": 1,
        "in_flight": 0,
        "cancelled": 0,
        "worker_pids": [quote["signed_in_pid"]],
    }
    assert quote["signed_in_pid"] != os.getpid()


def unsigned(quote: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in quote.items() if k not in ("signature", "signed_in_pid")}


def expected_signature(webapp: ModuleType, basket: dict[str, Any]) -> str:
    body = json.dumps(expected_quote(webapp, basket), sort_keys=True).encode()
    rounds = sys.modules["quote_signing"].ROUNDS
    return hashlib.pbkdf2_hmac("sha256", body, webapp.SECRET.encode(), rounds).hex()


@pytest.mark.anyio
async def test_webapp_50_concurrent_requests_each_get_their_own_result(
    webapp: ModuleType, client: Any
) -> None:
    import anyio

    products = sorted(webapp.PRICE_LIST)
    coupons = sorted(webapp.COUPONS)
    baskets = [
        {
            "customer": f"customer-{i:02d}",
            "items": {
                products[i % len(products)]: i + 1,
                products[(i * 3 + 1) % len(products)]: (i % 4) + 1,
            },
            "coupon": coupons[i % len(coupons)],
        }
        for i in range(50)
    ]
    responses: list[Any] = [None] * len(baskets)

    async def post(i: int) -> None:
        responses[i] = await client.post("/quote", json=baskets[i])

    async with anyio.create_task_group() as group:
        for i in range(len(baskets)):
            group.start_soon(post, i)

    for basket, response in zip(baskets, responses, strict=True):
        assert response.status_code == 200, response.text
        assert unsigned(response.json()) == expected_quote(webapp, basket)
    # All different: a mix-up between requests could not go unnoticed.
    assert len({json.dumps(r.json(), sort_keys=True) for r in responses}) == 50
    stats = (await client.get("/stats")).json()
    assert stats["served"] == 50
    assert stats["peak_in_flight"] >= 2  # the runs really overlapped
    # 50 requests, signed by the lifespan's two warm workers: none started per run.
    signers = {r.json()["signed_in_pid"] for r in responses}
    assert signers <= set(stats["worker_pids"])
    assert 1 <= len(stats["worker_pids"]) <= 2


@pytest.mark.anyio
async def test_webapp_errors(client: Any) -> None:
    unknown = await client.post(
        "/quote", json={"customer": "eve", "items": {"caviar": 1, "apple": 1}}
    )
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "unknown product(s): caviar"}
    coupon = await client.post(
        "/quote", json={"customer": "eve", "items": {"apple": 1}, "coupon": "FREE"}
    )
    assert coupon.status_code == 422
    invalid = await client.post("/quote", json={"customer": "eve", "items": {}})
    assert invalid.status_code == 422


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def uvicorn_server() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """The example app behind a real uvicorn on 127.0.0.1: (process, base URL)."""
    import httpx

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app:app",
            "--app-dir",
            str(WEBAPP),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/stats", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                assert server.poll() is None, "uvicorn exited while starting"
                assert time.monotonic() < deadline, "uvicorn never answered"
                time.sleep(0.1)
        yield server, base
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_webapp_under_uvicorn_keeps_workers_warm_and_stops_them(
    webapp: ModuleType,
) -> None:
    """A real server: the lifespan's pool serves every request, and is gone with it."""
    import httpx
    import psutil

    with uvicorn_server() as (server, base):
        baskets = [{"customer": f"c{i}", "items": {"pear": i + 1}} for i in range(6)]
        quotes = [
            httpx.post(f"{base}/quote", json=b, timeout=30).raise_for_status().json()
            for b in baskets
        ]
        for basket, quote in zip(baskets, quotes, strict=True):
            assert quote["signature"] == expected_signature(webapp, basket)
        stats = httpx.get(f"{base}/stats", timeout=5).json()
        workers = set(stats["worker_pids"])
        assert {q["signed_in_pid"] for q in quotes} == workers
        assert len(workers) == 1  # one request at a time: one warm worker, reused
        assert workers <= {p.pid for p in psutil.Process(server.pid).children()}
        server.send_signal(signal.SIGINT)  # uvicorn shuts down: lifespan exits
        assert server.wait(60) == 0
        assert not any(psutil.pid_exists(pid) for pid in workers)


def test_webapp_under_uvicorn_streams_events_live_and_a_gone_client_stops_the_run(
    webapp: ModuleType,
) -> None:
    import httpx
    import psutil

    with uvicorn_server() as (server, base):
        basket = {"customer": "ada", "items": {"apple": 2}}
        with httpx.stream("POST", f"{base}/quote/events", json=basket, timeout=30) as r:
            events = parse_sse(r.read().decode())
        assert events[-1][0] == "quote"
        assert events[-1][1]["signature"] == expected_signature(webapp, basket)

        warm = set(httpx.get(f"{base}/stats", timeout=5).json()["worker_pids"])
        assert len(warm) == 1

        # Live: the signing step's start arrives while it still runs (a strength
        # that takes minutes, on the one warm worker); then the client goes away.
        slow = {**basket, "strength": 10_000}
        seen: list[str] = []
        with httpx.stream("POST", f"{base}/quote/events", json=slow, timeout=30) as r:
            for line in r.iter_lines():
                seen.append(line)
                if line.startswith("data:") and '"sign_quote"' in line:
                    running = httpx.get(f"{base}/stats", timeout=5).json()
                    assert running["in_flight"] == 1
                    break  # closes the response: the connection is gone
        deadline = time.monotonic() + 30
        while True:
            stats = httpx.get(f"{base}/stats", timeout=5).json()
            if stats["cancelled"] == 1:
                break
            assert time.monotonic() < deadline, f"the run was never cancelled: {stats}"
            time.sleep(0.05)
        assert stats["in_flight"] == 0
        assert stats["served"] == 1
        assert "event: quote" not in seen
        # The worker that was signing was stopped with the run.
        assert not warm & set(stats["worker_pids"])
        assert not any(psutil.pid_exists(pid) for pid in warm)
        server.send_signal(signal.SIGINT)
        assert server.wait(60) == 0


def test_webapp_main_demo(webapp: ModuleType) -> None:
    quotes = webapp.main()
    assert [q["customer"] for q in quotes] == ["ada", "grace", "alan"]
    assert [q["total_cents"] for q in quotes] == [
        6 * 45 + 250,
        (2 * 899 + 575) - (2 * 899 + 575) // 2,
        3 * 60 - 3 * 60 // 10,
    ]


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """``(event, data)`` of each Server-Sent Event in ``text`` (comments skipped)."""
    found = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1)
            for line in block.splitlines()
            if not line.startswith(":")
        )
        if "event" in fields:
            found.append((fields["event"], json.loads(fields["data"])))
    return found


@pytest.mark.anyio
async def test_webapp_streams_a_runs_events_then_the_quote(
    webapp: ModuleType, client: Any
) -> None:
    basket = {"customer": "ada", "items": {"apple": 6, "bread": 1}}
    async with client.stream("POST", "/quote/events", json=basket) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join([chunk async for chunk in response.aiter_text()])
    events = parse_sse(text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "run_started"
    assert events[0][1]["nodes"] == 4
    assert kinds[-2:] == ["run_finished", "quote"]
    started = {data["node"]: data for kind, data in events if kind == "node_started"}
    finished = {data["node"]: data for kind, data in events if kind == "node_finished"}
    assert list(started) == [
        "look_up_prices",
        "price_lines",
        "make_quote",
        "sign_quote",
    ]
    assert {n: d["placement"] for n, d in finished.items()} == {
        "look_up_prices": "async",
        "price_lines": "thread",
        "make_quote": "thread",
        "sign_quote": "process",
    }
    quote = events[-1][1]
    assert finished["sign_quote"]["worker"] == quote["signed_in_pid"]
    assert unsigned(quote) == expected_quote(webapp, basket)
    assert quote["signature"] == expected_signature(webapp, basket)
    stats = (await client.get("/stats")).json()
    assert stats["served"] == 1
    assert stats["in_flight"] == 0


@pytest.mark.anyio
async def test_webapp_stream_reports_a_failed_run_as_an_error_event(
    client: Any,
) -> None:
    bad = {"customer": "eve", "items": {"caviar": 1}}
    response = await client.post("/quote/events", json=bad)
    events = parse_sse(response.text)
    assert events[-2][0] == "run_failed"
    assert events[-1] == (
        "error",
        {"status": 404, "detail": "unknown product(s): caviar"},
    )
    # A bad request is refused before any streaming: a plain HTTP error.
    coupon = {"customer": "eve", "items": {"apple": 1}, "coupon": "FREE"}
    refused = await client.post("/quote/events", json=coupon)
    assert refused.status_code == 422
    assert refused.json() == {"detail": "unknown coupon 'FREE'"}


@pytest.mark.anyio
async def test_webapp_client_gone_mid_stream_cancels_the_run(
    webapp: ModuleType, client: Any
) -> None:
    # Driven through the ASGI interface itself, as a server would: the request,
    # then the events as they are sent, then the client's disconnect once the
    # slow signing step has started in a worker process.
    import anyio
    import psutil

    body = json.dumps(
        {"customer": "ada", "items": {"apple": 1}, "strength": 10_000}
    ).encode()
    gone = anyio.Event()
    sent: list[str] = []
    busy_workers: list[int] = []
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            sent.append(message.get("body", b"").decode())
            signing = [d for k, d in parse_sse("".join(sent)) if k == "node_started"]
            if any(d["node"] == "sign_quote" for d in signing) and not gone.is_set():
                # The lifespan's pool is new: its first worker is the one the
                # signing step starts and keeps busy.
                while not busy_workers:
                    busy_workers.extend(
                        (await client.get("/stats")).json()["worker_pids"]
                    )
                    await anyio.sleep(0.01)
                gone.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/quote/events",
        "raw_path": b"/quote/events",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("app", 80),
    }
    with anyio.fail_after(60):  # a run left going would take minutes
        await webapp.app(scope, receive, send)

    kinds = [kind for kind, _ in parse_sse("".join(sent))]
    assert "quote" not in kinds
    assert "run_finished" not in kinds
    stats = (await client.get("/stats")).json()
    assert stats["cancelled"] == 1
    assert stats["in_flight"] == 0
    assert stats["served"] == 0
    # The worker signing the quote was stopped with the run: gone from the pool
    # and from the machine by the time the response ended.
    stopped = set(busy_workers) - set(stats["worker_pids"])
    assert len(stopped) == 1
    assert not any(psutil.pid_exists(pid) for pid in stopped)


# ---------------------------------------------------------- notebook_style


def test_notebook_style_sync_run_inside_a_running_loop() -> None:
    notebook = load_example("notebook_style.py")
    result = notebook.main()

    values = [1.0, 2.0, 4.0, 8.0]
    mean, stdev = statistics.fmean(values), statistics.stdev(values)
    expected = [round((x - mean) / stdev, 3) for x in values]
    assert result["run"]["z"] == expected
    assert result["arun"]["z"] == expected

    loop, thread = result["notebook_loop"], result["notebook_thread"]
    # run(): every node ran on another loop, in another thread: the notebook's
    # loop was never re-entered.
    assert [name for name, _, _ in result["run"]["trace"]] == [
        "clean",
        "enrich",
        "zscores",
    ]
    for name, node_thread, node_loop in result["run"]["trace"]:
        assert node_thread != thread, name
        assert node_loop not in (0, loop), name
    # arun(): the async node ran on the notebook's loop, sync nodes in threads.
    trace = {name: (t, lp) for name, t, lp in result["arun"]["trace"]}
    assert trace["enrich"] == (thread, loop)
    assert trace["clean"][0] != thread
    assert trace["zscores"][0] != thread


def test_notebook_style_works_inside_this_tests_running_loop() -> None:
    """The same sync call, made by code already running in an asyncio loop."""
    notebook = load_example("notebook_style.py")

    async def cell() -> list[float]:
        from dagloop.io import DataCatalog
        from dagloop.runner import SequentialRunner

        outputs = SequentialRunner().run(
            notebook.build_pipeline(), DataCatalog({"raw": [3.0, None, 5.0]})
        )
        z: list[float] = outputs["z"].load()
        return z

    assert asyncio.run(cell()) == [-0.707, 0.707]


# ------------------------------------------------------------ cpu_parallel


def reference_model(partitions: int, size: int) -> tuple[float, float]:
    """Least squares of Collatz steps on ln(n), computed independently."""

    def steps(n: int) -> int:
        count = 0
        while n > 1:
            n = 3 * n + 1 if n & 1 else n >> 1
            count += 1
        return count

    numbers = range(1, 1 + partitions * size)
    fit = statistics.linear_regression(
        [math.log(n) for n in numbers], [steps(n) for n in numbers]
    )
    return fit.slope, fit.intercept


def test_cpu_parallel(tmp_path: Path) -> None:
    run = ScriptRun("cpu_parallel.py", tmp_path, "--partitions", "4", "--size", "10000")
    parent = run.value("parent pid =")
    featurise_pids = run.value("featurise pids =")
    # Preprocessing ran in worker processes, training (executor="inline") in the
    # parent process.
    assert len(featurise_pids) == 4
    assert parent not in featurise_pids
    assert run.value("train pid =") == parent
    for i, pid in enumerate(featurise_pids):
        run.line(rf"  featurise_{i} ran in pid {pid} \(\d+\.\d\d s of CPU time\)")
    run.line(r"ParallelRunner: +\d+\.\d\d s")
    run.line(r"SequentialRunner: +\d+\.\d\d s \(all in pid \d+\)")

    model = run.value("model =")
    slope, intercept = reference_model(4, 10_000)
    assert model["rows"] == 40_000
    assert model["slope"] == pytest.approx(slope, abs=1e-5)
    assert model["intercept"] == pytest.approx(intercept, abs=1e-5)
    run.line(r"same model both ways: True")
    assert list(tmp_path.iterdir()) == []


def test_pictures(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    ScriptRun("pictures.py", tmp_path, "--out", str(tmp_path / "out"))
    out = tmp_path / "out"
    assert (out / "pipeline.mmd").read_text().startswith("flowchart LR\n")
    assert (out / "pipeline.html").read_text().count('<g class="node"') == 10
    svg = ET.parse(out / "timeline.svg").getroot()
    tasks = [
        g for g in svg.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "task"
    ]
    assert len(tasks) == 10
    html = (out / "timeline.html").read_text()
    assert "10 nodes on" in html
    assert "2 attempts" in html  # the flaky report's retry


# ------------------------------------------------------------------ README


EXAMPLE_PATHS = [
    "examples/webapp/",
    "examples/asyncio_script.py",
    "examples/api_aggregation/",
    "examples/notebook_style.py",
    "examples/cpu_parallel.py",
    "examples/pictures.py",
    "examples/seed/",
]


@pytest.fixture(scope="module")
def examples_section() -> str:
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"^## Examples\n(.*?)^## ", readme, re.S | re.M)
    assert match, "README has no Examples section"
    headings = re.findall(r"^## (.+)$", readme, re.M)
    assert headings.index("Examples") == headings.index("Runners") + 1
    return match.group(1)


@pytest.mark.parametrize("path", EXAMPLE_PATHS)
def test_readme_links_every_example(examples_section: str, path: str) -> None:
    assert f"]({path})" in examples_section
    assert (ROOT / path).exists()
