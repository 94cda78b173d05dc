"""A FastAPI app that runs a dagloop pipeline per request, on the app's event loop.

``POST /quote`` prices a shopping basket. The request body becomes the free
inputs of a small pipeline (customer, items, coupon) in a ``DataCatalog`` made for
that request alone, and the handler awaits ``runner.arun(...)``:

* the pipeline and the runner are built once, at import, and shared by every
  request: a ``Pipeline`` is immutable and a runner keeps no per-run state;
* the catalog is per request, so concurrent requests never see each other's data
  (a shared catalog would mix one request's ``items`` into another's run);
* ``arun`` runs on the server's own event loop: the ``async def`` node is a
  coroutine there, the sync nodes run in worker threads, so the server keeps
  answering other requests while a pipeline runs;
* the CPU-heavy signing step runs in a worker process (``executor="process"``)
  of a ``WorkerPool`` that the app's lifespan owns: its processes start once,
  stay warm for every request, and are stopped when the server shuts down.

A node's exception reaches the handler unchanged (``UnknownProductError`` →
HTTP 404). ``GET /stats`` tells how many runs were served and the most that were
in flight at once.

``POST /quote/events`` runs the same pipeline and streams the run as it goes,
as Server-Sent Events (``runner.stream()``): one ``event:`` per run event
(``node_started``, ``dataset_saved``, ...), then the signed quote as a ``quote``
event, or an ``error`` event. A client that disconnects mid-stream cancels its
run: the worker process signing its quote is stopped, nothing is left running.

Run it:  python examples/webapp/app.py      (sends a few requests in-process)
Serve:   pip install 'dagloop[examples]' && uvicorn app:app --app-dir examples/webapp
"""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import httpx
from fastapi import FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from quote_signing import sign_quote

from dagloop.io import DataCatalog, MemoryDataset
from dagloop.pipeline import node, pipeline
from dagloop.runner import RunEvent, ThreadRunner, WorkerPool

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

#: Unit prices in cents, and coupons as percentages off the subtotal.
PRICE_LIST = {"apple": 45, "pear": 60, "bread": 250, "cheese": 575, "coffee": 899}
COUPONS = {"": 0, "WELCOME10": 10, "HALF": 50}


class UnknownProductError(LookupError):
    """A basket names a product that is not on the price list."""


# ------------------------------------------------------------------- the nodes


async def look_up_prices(items: dict[str, int]) -> dict[str, int]:
    """Async: stands in for a price service or database queried over the network."""
    await anyio.sleep(0.01)
    unknown = sorted(set(items) - set(PRICE_LIST))
    if unknown:
        raise UnknownProductError(f"unknown product(s): {', '.join(unknown)}")
    return {sku: PRICE_LIST[sku] for sku in items}


def price_lines(items: dict[str, int], prices: dict[str, int]) -> list[dict[str, Any]]:
    """Sync (a worker thread under arun): one priced line per product."""
    return [
        {
            "sku": sku,
            "quantity": qty,
            "unit_cents": prices[sku],
            "cents": qty * prices[sku],
        }
        for sku, qty in sorted(items.items())
    ]


def make_quote(
    customer: str, lines: list[dict[str, Any]], coupon: str
) -> dict[str, Any]:
    """Sync: totals, discount and the response document."""
    subtotal = sum(line["cents"] for line in lines)
    discount = subtotal * COUPONS.get(coupon, 0) // 100
    return {
        "customer": customer,
        "lines": lines,
        "subtotal_cents": subtotal,
        "discount_cents": discount,
        "total_cents": subtotal - discount,
    }


#: Built once; shared by all requests.
QUOTE_PIPELINE = pipeline(
    [
        node(look_up_prices, "items", "prices", name="look_up_prices"),
        node(price_lines, ["items", "prices"], "lines", name="price_lines"),
        node(make_quote, ["customer", "lines", "coupon"], "quote", name="make_quote"),
        node(
            sign_quote,
            ["quote", "params:secret", "params:strength"],
            "signed_quote",
            name="sign_quote",
            executor="process",
        ),
    ]
)
SECRET = "not-a-real-secret"


# ------------------------------------------------------------------------ app


class QuoteRequest(BaseModel):
    customer: str = Field(min_length=1)
    items: dict[str, int] = Field(min_length=1)  # product -> quantity
    coupon: str = ""
    #: How hard the signature is stretched (times quote_signing.ROUNDS).
    strength: int = Field(default=1, ge=1, le=10_000)


@dataclass
class RunStats:
    served: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    #: Streamed runs stopped because their client went away.
    cancelled: int = 0


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The app owns its worker processes: warm for every request, gone at shutdown."""
    async with WorkerPool(max_workers=2, preload=["quote_signing"]) as pool:
        app.state.pool = pool
        # Runners keep no per-run state: one serves every request.
        app.state.runner = ThreadRunner(pool=pool)
        yield


app = FastAPI(title="dagloop quote service", lifespan=lifespan)
app.state.stats = RunStats()


def request_catalog(request: QuoteRequest) -> DataCatalog:
    """This request's own catalog: its parameters are the pipeline's free inputs."""
    if request.coupon not in COUPONS:
        raise HTTPException(
            status_code=422, detail=f"unknown coupon {request.coupon!r}"
        )
    return DataCatalog(
        {
            "customer": MemoryDataset(request.customer),
            "items": MemoryDataset(request.items),
            "coupon": MemoryDataset(request.coupon),
            "params:secret": MemoryDataset(SECRET),
            "params:strength": MemoryDataset(request.strength),
        }
    )


@app.post("/quote")
async def quote(request: QuoteRequest) -> dict[str, Any]:
    catalog = request_catalog(request)
    stats: RunStats = app.state.stats
    stats.in_flight += 1  # one event loop: no lock needed between awaits
    stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
    try:
        outputs = await app.state.runner.arun(QUOTE_PIPELINE, catalog)
    except UnknownProductError as exc:  # the node's own exception, unchanged
        raise HTTPException(status_code=404, detail=exc.args[0]) from exc
    finally:
        stats.in_flight -= 1
    stats.served += 1
    result: dict[str, Any] = await outputs["signed_quote"].aload()
    return result


#: Seconds without an event after which the stream sends an SSE comment:
#: proxies keep the connection open, and a gone client is noticed.
KEEP_ALIVE = 10.0


def sse(event: str, data: Any) -> str:
    """One Server-Sent Event: its type and a JSON document."""
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def event_document(event: RunEvent) -> dict[str, Any]:
    """What a client needs of a run event (JSON: the error as its text)."""
    document = {
        "node": event.node,
        "dataset": event.dataset,
        "placement": event.placement,
        "worker": event.worker,
        "at": round(event.at, 6),
        "duration": None if event.duration is None else round(event.duration, 6),
        "attempt": event.attempt,
        "nodes": event.nodes,
        "error": None if event.error is None else repr(event.error),
    }
    return {key: value for key, value in document.items() if value is not None}


class EventStreamResponse(StreamingResponse):
    """Server-Sent Events from an async generator that is always closed.

    Starlette stops a response whose client went away by cancelling it; if that
    happens while the response is sending, the generator is left suspended at a
    ``yield``, and only garbage collection would close it, and its run, later.
    Closing it here ends the run at once, whatever was going on.
    """

    media_type = "text/event-stream"

    async def stream_response(self, send: Any) -> None:
        async with aclosing(self.body_iterator):  # type: ignore[type-var]
            await super().stream_response(send)


@app.post("/quote/events")
async def quote_events(request: QuoteRequest) -> EventStreamResponse:
    catalog = request_catalog(request)  # a bad request fails before any streaming
    stats: RunStats = app.state.stats

    async def stream() -> AsyncIterator[str]:
        # This generator yields inside runner.stream()'s block, that is, inside
        # its task group. That is safe here because the block's one task (the
        # run) raises nothing but its cancellation: the run's error is raised
        # by the block's exit, in this generator, not in the task.
        stats.in_flight += 1
        stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
        try:
            async with app.state.runner.stream(QUOTE_PIPELINE, catalog) as run:
                events = aiter(run)
                while True:
                    with anyio.move_on_after(KEEP_ALIVE) as idle:
                        event = await anext(events, None)
                    if idle.cancelled_caught:
                        yield ": keep-alive\n\n"
                        continue
                    if event is None:
                        break
                    yield sse(event.kind, event_document(event))
            quote = await run.outputs["signed_quote"].aload()
            stats.served += 1
            yield sse("quote", quote)
        except UnknownProductError as exc:  # the run's own error, as the block ends
            yield sse("error", {"status": 404, "detail": exc.args[0]})
        except Exception as exc:  # headers are sent: say it in the stream
            yield sse(
                "error", {"status": 500, "detail": f"{type(exc).__name__}: {exc}"}
            )
        except (anyio.get_cancelled_exc_class(), GeneratorExit):
            # The client went away: Starlette cancelled the response, or closed
            # this generator. Leaving the block has cancelled the run, and its
            # worker process was stopped before the block let go.
            stats.cancelled += 1
            raise
        finally:
            stats.in_flight -= 1

    return EventStreamResponse(
        stream(), headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@app.get("/stats")
async def run_stats() -> dict[str, Any]:
    stats: RunStats = app.state.stats
    return {
        "served": stats.served,
        "peak_in_flight": stats.peak_in_flight,
        "in_flight": stats.in_flight,
        "cancelled": stats.cancelled,
        "worker_pids": sorted(app.state.pool.worker_pids()),
    }


# ------------------------------------------------------------------------ main


async def demo() -> list[dict[str, Any]]:
    """Send a few concurrent requests to the app in-process (no server needed)."""
    baskets = [
        {"customer": "ada", "items": {"apple": 6, "bread": 1}},
        {"customer": "grace", "items": {"coffee": 2, "cheese": 1}, "coupon": "HALF"},
        {"customer": "alan", "items": {"pear": 3}, "coupon": "WELCOME10"},
    ]
    transport = httpx.ASGITransport(app=app)  # sends no lifespan events: run it here
    async with (
        lifespan(app),
        httpx.AsyncClient(transport=transport, base_url="http://app") as client,
    ):
        responses = await asyncio.gather(
            *(client.post("/quote", json=basket) for basket in baskets)
        )
        missing = await client.post(
            "/quote", json={"customer": "eve", "items": {"caviar": 1}}
        )
        streamed = await client.post("/quote/events", json=baskets[0])
        stats = (await client.get("/stats")).json()
    quotes = [response.raise_for_status().json() for response in responses]
    for q in quotes:
        print(
            f"{q['customer']:<6} subtotal {q['subtotal_cents']:>5} - discount "
            f"{q['discount_cents']:>4} = total {q['total_cents']:>5} cents"
        )
    print(f"unknown product -> HTTP {missing.status_code}: {missing.json()['detail']}")
    kinds = [line[len("event: ") :] for line in streamed.text.splitlines()
             if line.startswith("event: ")]  # fmt: skip
    print(
        f"streamed as Server-Sent Events: {len(kinds)} events, {' '.join(kinds[:3])} ... {kinds[-1]}"
    )
    print(
        f"served {stats['served']} quotes; signed in worker(s) {stats['worker_pids']}"
    )
    return quotes


def main() -> list[dict[str, Any]]:
    return asyncio.run(demo())


if __name__ == "__main__":
    main()
