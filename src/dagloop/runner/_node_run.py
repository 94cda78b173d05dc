"""Running one node: load its inputs, call it, save its outputs, with hooks.

:func:`run_node` is the only implementation, used by every runner through the
scheduler and by ``Task``.

Order of events for a node (the same in every runner, including for process
nodes, whose I/O and hooks stay in the parent): for each input
``before_dataset_loaded``, load, ``after_dataset_loaded``; ``before_node_run``
(its dict results replace inputs); the call; ``after_node_run`` or
``on_node_error``; for each output (or each chunk of a generator's output)
``before_dataset_saved``, save, ``after_dataset_saved``; then ``confirm``.
"""

from __future__ import annotations

import datetime
import email.utils
import logging
import sys
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from itertools import cycle
from typing import TYPE_CHECKING, Any, cast

import anyio

from dagloop.io import _async
from dagloop.io.memory_dataset import _without_copies
from dagloop.runner._concurrency import run_all
from dagloop.runner._errors import (
    NodeTimeoutError,
    ProcessTransferError,
    WorkerProcessError,
)
from dagloop.runner._events import Attempt, RunEvents, _attempt
from dagloop.runner._streams import SAVER

_logger = logging.getLogger("dagloop.runner")

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from dagloop.pipeline.node import Node
    from dagloop.runner._hooks import HookCaller
    from dagloop.runner._placement import Placement, Placements
    from dagloop.runner._quota import RateLimit
    from dagloop.runner._streams import Stream


class CatalogIO:
    """The catalog operations a run needs, async whatever the catalog is.

    dagloop catalogs have ``aload``/``asave``/...; any other catalog implementing
    Kedro's protocol (Kedro's own ``DataCatalog`` included) is called in an I/O
    thread. The methods are bound once here: they are on every node's path.
    """

    def __init__(self, catalog: Any) -> None:
        self.catalog = catalog
        self.load: Callable[[str], Awaitable[Any]] = _async_face(catalog, "load")
        self.save: Callable[[str, Any], Awaitable[None]] = _async_face(catalog, "save")
        self.release: Callable[[str], Awaitable[None]] = _async_face(catalog, "release")
        self.exists: Callable[[str], Awaitable[bool]] = _async_face(catalog, "exists")
        self.confirm = partial(_async.in_io_thread, catalog.confirm)
        #: Loads for a placement whose values may stay where they were made
        #: (``Placement.remote``): a handle to the data, such as a cluster's
        #: future, may come back instead of the data. The same as ``load`` here.
        self.load_handle: Callable[[str], Awaitable[Any]] = self.load


def _async_face(catalog: Any, operation: str) -> Callable[..., Awaitable[Any]]:
    """``catalog``'s async ``operation`` (``aload`` for ``load``), or its sync one
    in an I/O thread when it has no async one, or when the sync one, or ``get``
    (through which the sync ones find datasets, as in Kedro), was replaced on
    the instance or by a subclass that left the async one as it was: a replaced
    ``save`` or ``get`` (a plugin's wrapper, a test's mock) is what must run."""
    sync = getattr(catalog, operation)
    native_name = "a" + operation
    native = getattr(catalog, native_name, None)
    if native is None or any(
        _replaced(catalog, name, native_name) for name in (operation, "get")
    ):
        return partial(_async.in_io_thread, sync)
    return cast("Callable[..., Awaitable[Any]]", native)


def _replaced(catalog: Any, sync: str, native: str) -> bool:
    """Whether ``catalog``'s ``sync`` method is newer than its ``native`` one:
    set on the instance, defined by a class (a subclass, a mixin) ahead of the
    one defining ``native`` in the MRO, patched on that same class, or the
    async one reached only through ``__getattr__`` (a proxy)."""
    own = vars(catalog) if hasattr(catalog, "__dict__") else {}
    if sync in own or native in own:
        return native not in own
    mro = type(catalog).__mro__
    sync_at = next((i for i, c in enumerate(mro) if sync in vars(c)), None)
    native_at = next((i for i, c in enumerate(mro) if native in vars(c)), None)
    if native_at is None:
        return True
    if sync_at is None or sync_at > native_at:
        return False
    if sync_at < native_at:
        return True
    owner = mro[sync_at]
    defined = getattr(vars(owner)[sync], "__qualname__", None)
    return defined != f"{owner.__qualname__}.{sync}"


@dataclass
class RunContext:
    """What every node of one run shares."""

    catalog: CatalogIO
    hooks: HookCaller
    placements: Placements
    run_id: str | None
    is_async: bool
    #: The run's event stream, or ``None`` when nobody listens (the hot path).
    events: RunEvents | None = None
    #: Per tag, the quotas each attempt of its nodes takes a start from.
    rates: Mapping[str, tuple[RateLimit, ...]] = field(default_factory=dict)
    #: The run's streaming edges, by dataset name (see ``_streams``).
    streams: Mapping[str, Stream] = field(default_factory=dict)
    #: The names of the nodes producing or reading a stream.
    streaming: frozenset[str] = frozenset()
    #: Threads for those of them that run in threads, one each: apart from
    #: the runner's, which other nodes may fill.
    stream_threads: Placement | None = None

    def quotas(self, node: Node) -> tuple[RateLimit, ...]:
        """The quotas ``node``'s attempts draw from, in tag order (none, mostly)."""
        rates = self.rates
        if not rates:
            return ()
        return tuple(q for tag in sorted(rates.keys() & node._tags) for q in rates[tag])


def _check_generator(node: Node) -> None:
    if node._is_generator:
        raise ValueError(
            f"Async data loading and saving does not work with nodes wrapping "
            f"generator functions. Please make sure you don't use `yield` anywhere "
            f"in node {node!s}."
        )


def run_node(ctx: RunContext, node: Node) -> Awaitable[None]:
    """Run ``node`` completely: inputs, hooks, call, outputs, confirms.

    Returns the run to await (a function, not a coroutine of its own: this is
    on every node's path). ``ctx`` comes first so that the scheduler binds it
    with a positional ``partial``, which calls faster than a keyword one.

    Raises:
        ValueError: For a generator node under ``is_async``.
        Exception: When awaited, the node's own exception, unchanged (after
            ``on_node_error``), or a ``DatasetError`` from loading or saving
            (with a note naming the node).
    """
    if ctx.is_async:
        _check_generator(node)
    place = ctx.placements.for_node(node)
    if ctx.streams and node.name in ctx.streaming:
        # A stream's nodes run together for its whole life: a slot held by one
        # while another waits for it would stop the stream for good. They
        # take no admission slot, and their threads are the stream's own.
        if place.name == "thread":
            place = ctx.stream_threads or place
        return _start(node, ctx, place)
    if place.admission is None:
        return _start(node, ctx, place)
    return _admitted(node, ctx, place, place.admission)


def _start(node: Node, ctx: RunContext, place: Placement) -> Awaitable[None]:
    """The node's run, from its first input to its last confirm."""
    body = _run_stream_node if node.name in ctx.streaming else _run_node
    if _crosses_processes(place, node, ctx):
        run = _run_handed_over(node, ctx, place, body)
    else:
        run = body(node, ctx, place)
    if ctx.events is not None:
        return _observed(run, node, place, ctx.events, ctx.streams)
    return run


async def _admitted(
    node: Node, ctx: RunContext, place: Placement, admission: anyio.CapacityLimiter
) -> None:
    """Run ``node`` once its placement has room: a node waiting for a thread or
    a process has not started (no inputs loaded, no ``node_started``)."""
    await admission.acquire()
    slot = _Slot(admission)
    token = _slot.set(slot)
    try:
        await _start(node, ctx, place)
    finally:
        _slot.reset(token)
        if slot.held:
            admission.release()


class _Slot:
    """The admission slot the current node holds, given up while it waits to
    retry: a node backing off for 30 s must not keep a process idle."""

    __slots__ = ("held", "limiter")

    def __init__(self, limiter: anyio.CapacityLimiter) -> None:
        self.limiter = limiter
        self.held = True

    async def wait_outside(self, seconds: float) -> None:
        """Sleep ``seconds`` without the slot, then wait for one again. Cancelled
        meanwhile, the node holds no slot (``held`` says so): nothing to give back."""
        self.limiter.release()
        self.held = False
        await anyio.sleep(seconds)
        await self.limiter.acquire()
        self.held = True


#: The slot of the node the current task runs, if its placement admits nodes.
_slot: ContextVar[_Slot | None] = ContextVar("dagloop_slot", default=None)


async def _observed(
    run: Awaitable[None],
    node: Node,
    place: Placement,
    events: RunEvents,
    streams: Mapping[str, Stream],
) -> None:
    """Await ``run`` (``node``'s) with its events: started, then finished or failed."""
    name, where = node.name, place.name
    on_loop = place.on_loop
    attempt = Attempt(events.loop_thread if on_loop else None)
    # Set before ``run`` starts, so the placement can note its worker and a
    # retry its number here; a node on the loop without retries changes neither.
    token = _attempt.set(attempt) if node.retries or not on_loop else None
    start = events.now()
    events.node("node_started", name, where, attempt.worker, 1)
    try:
        await run
    except BaseException as exc:
        duration = events.now() - start
        events.node(
            "node_failed", name, where, attempt.worker, attempt.number, duration, exc
        )
        raise
    finally:
        if token is not None:
            _attempt.reset(token)
    duration = events.now() - start
    events.node("node_finished", name, where, attempt.worker, attempt.number, duration)
    if node._is_stream:  # a streaming node's stream, once it ended
        (output,) = node.outputs
        stream = streams[output]
        events.emit(
            "stream_finished",
            node=name,
            dataset=output,
            placement=where,
            duration=duration,
            items=stream.items,
            waited=stream.waited,
        )


async def _run_handed_over(
    node: Node,
    ctx: RunContext,
    place: Placement,
    body: Callable[[Node, RunContext, Placement], Awaitable[None]],
) -> None:
    # Values bound for (or coming from) a worker process are copied by pickling:
    # memory datasets need not copy them again.
    with _without_copies():
        await body(node, ctx, place)


async def _run_node(node: Node, ctx: RunContext, place: Placement) -> None:
    # The per-node hot path: in the common case (no hooks, sequential loads,
    # plain outputs) the catalog is awaited directly, with no intermediate
    # coroutine per dataset.
    names, _, confirms = node._io_names
    inputs: dict[str, Any] = {}
    try:
        if ctx.is_async and len(names) > 1:
            inputs = await _load_concurrently(node, names, ctx, place)
        elif ctx.hooks.on_load:
            for name in names:
                inputs[name] = await _load_one(node, name, ctx)
        else:
            load = ctx.catalog.load_handle if place.remote else ctx.catalog.load
            events = ctx.events
            for name in names:
                if events is None:
                    inputs[name] = await load(name)
                else:
                    start = events.now()
                    inputs[name] = await load(name)
                    events.dataset("dataset_loaded", node.name, name, start)
    except Exception as exc:
        exc.add_note(f"While loading the inputs of node '{node.name}'.")
        raise
    if "before_node_run" in ctx.hooks.active:
        inputs.update(await _inputs_from_hook(node, inputs, ctx))
    outputs = await _call(node, inputs, ctx, place)
    try:
        if outputs and node._is_generator:
            await _stream_outputs(node, outputs, ctx, place)
        elif ctx.is_async and len(outputs) > 1:
            await _save_concurrently(node, outputs, ctx)
        elif ctx.hooks.on_save:
            for name, data in outputs.items():
                await _save_one(node, name, data, ctx)
        else:
            save, events = ctx.catalog.save, ctx.events
            for name, data in outputs.items():
                if events is None:
                    await save(name, data)
                else:
                    start = events.now()
                    await save(name, data)
                    events.dataset("dataset_saved", node.name, name, start)
    except Exception as exc:
        exc.add_note(
            f"While saving the outputs of node '{node.name}' (outputs saved before "
            f"the failure are kept)."
        )
        raise
    for name in confirms:
        await ctx.catalog.confirm(name)


async def _run_stream_node(node: Node, ctx: RunContext, place: Placement) -> None:
    """``_run_node`` for a node producing or reading a stream (rare: kept off
    the common path). Stream inputs come from their readers, closed when the
    node is done with them; a producer's items go to its stream."""
    names, _, confirms = node._io_names
    inputs: dict[str, Any] = {}
    readers = [ctx.streams[name] for name in names if name in ctx.streams]
    try:
        try:
            for name in names:
                stream = ctx.streams.get(name)
                inputs[name] = (
                    await _load_one(node, name, ctx)
                    if stream is None
                    else await _stream_input(stream, node, place)
                )
        except Exception as exc:
            exc.add_note(f"While loading the inputs of node '{node.name}'.")
            raise
        if "before_node_run" in ctx.hooks.active:
            inputs.update(await _inputs_from_hook(node, inputs, ctx))
        outputs = await _call(node, inputs, ctx, place)
        if node._is_stream:
            await _produce_reporting(node, inputs, outputs, ctx, place)
        else:
            try:
                for name, data in outputs.items():
                    await _save_one(node, name, data, ctx)
            except Exception as exc:
                exc.add_note(
                    f"While saving the outputs of node '{node.name}' (outputs saved "
                    f"before the failure are kept)."
                )
                raise
    finally:
        # A reader the node stopped early (or never used) must not hold its
        # producer up; a producer reads as it yields, so its readers close here.
        for stream in readers:
            stream.close_reader(node.name)
    for name in confirms:
        await ctx.catalog.confirm(name)


async def _produce_reporting(
    node: Node,
    inputs: dict[str, Any],
    outputs: dict[str, Any],
    ctx: RunContext,
    place: Placement,
) -> None:
    """Feed the stream; an error raised in the producer's body, as it runs,
    is reported as ``_call`` reports a node's failure."""
    try:
        await _produce(node, outputs, ctx, place)
    except Exception as exc:
        node._log_failure(exc)
        if "on_node_error" in ctx.hooks.active:
            await ctx.hooks.call(
                "on_node_error", error=exc, node=node, inputs=inputs, **_hook_args(ctx)
            )
        raise


async def _stream_input(stream: Stream, node: Node, place: Placement) -> Any:
    """How ``node`` reads a stream: an ``async def`` node iterates it as it
    comes, a sync node in a thread with a plain iterator; anywhere else (on the
    loop, where waiting would block it; in a worker process) it gets the
    items collected first, as a list."""
    reader = stream.reader(node.name)
    if node.is_async:
        return reader
    if place.name == "thread":
        return reader.in_thread()
    return [item async for item in reader]


async def _produce(
    node: Node, outputs: dict[str, Any], ctx: RunContext, place: Placement
) -> None:
    """Feed a streaming node's items to its readers; with a saver among them,
    save each item through the catalog as it goes (as a sync generator
    node's chunks are)."""
    ((name, items),) = outputs.items()
    if node._is_generator:  # a sync generator: its items come from where it runs
        items = _async_items(items, place)
    stream = ctx.streams[name]
    if not stream.saves:
        await stream.feed(items)
        return

    async def save_each() -> None:
        try:
            async for item in stream.reader(SAVER):
                await _save_one(node, name, item, ctx)
        except Exception as exc:
            stream.error = exc  # the readers end with it, not cleanly
            raise

    # One failure, unchanged (never an ExceptionGroup): the producer's own
    # error, or the save that failed.
    await run_all([save_each, partial(stream.feed, items)])


async def _async_items(items: Any, place: Placement) -> Any:
    """A sync generator's items, each produced where the node runs."""
    while True:
        more, item = await place.next_item(items)
        if not more:
            return
        yield item


def _crosses_processes(place: Placement, node: Node, ctx: RunContext) -> bool:
    hooks = ctx.hooks
    return (
        place.copies_values
        and not node._is_generator
        and not (hooks.on_load or hooks.on_save or "before_node_run" in hooks.active)
        and "after_node_run" not in hooks.active
    )


async def _load_one(
    node: Node, name: str, ctx: RunContext, handle: bool = False
) -> Any:
    """Load one input with its hooks and event; ``handle``: for a remote
    placement, whose inputs may stay where they are (never with load hooks,
    which are given the data)."""
    hooks, events = ctx.hooks, ctx.events
    if hooks.on_load:
        await hooks.call("before_dataset_loaded", dataset_name=name, node=node)
    start = events.now() if events is not None else 0.0
    load = ctx.catalog.load_handle if handle and not hooks.on_load else ctx.catalog.load
    data = await load(name)
    if events is not None:
        events.dataset("dataset_loaded", node.name, name, start)
    if hooks.on_load:
        await hooks.call(
            "after_dataset_loaded", dataset_name=name, data=data, node=node
        )
    return data


async def _load_concurrently(
    node: Node, names: tuple[str, ...], ctx: RunContext, place: Placement
) -> dict[str, Any]:
    """is_async: load every input at once; the first failed load cancels the others."""
    loaded: dict[str, Any] = {}

    async def load_into(name: str) -> None:
        loaded[name] = await _load_one(node, name, ctx, place.remote)

    await run_all([partial(load_into, name) for name in dict.fromkeys(names)])
    return {name: loaded[name] for name in names}


async def _inputs_from_hook(
    node: Node, inputs: dict[str, Any], ctx: RunContext
) -> dict[str, Any]:
    responses = await ctx.hooks.call(
        "before_node_run",
        node=node,
        catalog=ctx.catalog.catalog,
        inputs=dict(inputs),  # a copy: hooks must not change the loaded inputs in place
        is_async=ctx.is_async,
        run_id=ctx.run_id,
    )
    replaced: dict[str, Any] = {}
    for response in responses:
        if response is not None and not isinstance(response, dict):
            raise TypeError(
                f"'before_node_run' must return either None or a dictionary mapping "
                f"dataset names to updated values, got '{type(response).__name__}' instead."
            )
        replaced.update(response or {})
    return replaced


async def _call(
    node: Node, inputs: dict[str, Any], ctx: RunContext, place: Placement
) -> dict[str, Any]:
    node._start(inputs)
    try:
        args, kwargs = node._call_arguments(inputs)
        quotas = ctx.quotas(node) if ctx.rates else ()
        if node.retries:
            outputs = await _call_with_retries(
                node, args, kwargs, place, ctx.events, quotas
            )
        else:
            for quota in quotas:
                await quota.acquire()
            outputs = await place.attempt(node, args, kwargs)
    except Exception as exc:
        node._log_failure(exc)
        if "on_node_error" in ctx.hooks.active:
            await ctx.hooks.call(
                "on_node_error", error=exc, node=node, inputs=inputs, **_hook_args(ctx)
            )
        raise
    if "after_node_run" in ctx.hooks.active:
        await ctx.hooks.call(
            "after_node_run",
            node=node,
            inputs=inputs,
            outputs=outputs,
            **_hook_args(ctx),
        )
    return outputs


#: Not retried: only exceptions raised by the node function are. A timed-out
#: attempt did not raise (dagloop stopped it), and the process boundary's
#: failures are not the function's either.
_NOT_RETRIED = (NodeTimeoutError, ProcessTransferError, WorkerProcessError)


async def _call_with_retries(
    node: Node,
    args: list[Any],
    kwargs: dict[str, Any],
    place: Placement,
    events: RunEvents | None,
    quotas: tuple[RateLimit, ...] = (),
) -> dict[str, Any]:
    """Call the function until it succeeds or its retries are used up.

    Only the call is repeated: inputs are loaded once, and outputs are saved once,
    after the attempt that succeeded. Each attempt takes a start from the
    node's quotas. A failure carrying ``Retry-After`` (an HTTP 429 or 503) waits
    what the server asked (at most ``RETRY_AFTER_MAX`` seconds) instead of the
    node's backoff.
    """
    controls = node._controls
    attempts = controls.retries + 1
    for attempt in range(1, attempts + 1):
        try:
            for quota in quotas:
                await quota.acquire()
            return await place.attempt(node, args, kwargs)
        except _NOT_RETRIED:
            raise
        except Exception as exc:
            if attempt == attempts:
                exc.add_note(f"Node '{node.name}' failed on all {attempts} attempts.")
                raise
            asked = retry_after(exc)
            delay = (
                controls.delay_before(attempt + 1)
                if asked is None
                else min(asked, RETRY_AFTER_MAX)
            )
            _logger.warning(
                "Node '%s' failed on attempt %d of %d (%r); retrying in %g s.",
                node.name,
                attempt,
                attempts,
                exc,
                delay,
            )
            if events is not None:
                _retrying(node, exc, attempt, place, events)
            slot = _slot.get()
            if slot is None:
                await anyio.sleep(delay)
            else:
                await slot.wait_outside(delay)
    raise AssertionError("unreachable")  # the loop returns or raises


#: The longest a retry waits for a server's ``Retry-After``, in seconds: a
#: longer one is cut to this (a server asking for an hour would otherwise hold
#: the run that long).
RETRY_AFTER_MAX = 60.0


def retry_after(error: BaseException) -> float | None:
    """The seconds ``error`` asks a retry to wait, or ``None``: an HTTP 429 or
    503 response's ``Retry-After`` (seconds, or an HTTP date), as carried by
    ``httpx.HTTPStatusError``; or an exception's own ``retry_after`` (seconds),
    for other clients."""
    own = getattr(error, "retry_after", None)
    if isinstance(own, int | float) and not isinstance(own, bool):
        return max(0.0, float(own))
    # Imported by whoever raised an httpx error: importing httpx here would
    # import its command line's click and rich, optional to dagloop.
    httpx = sys.modules.get("httpx")
    response = getattr(error, "response", None)
    if httpx is None or not isinstance(error, httpx.HTTPStatusError):
        return None
    if response is None:
        return None
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, (when - datetime.datetime.now(datetime.UTC)).total_seconds())


def _hook_args(ctx: RunContext) -> dict[str, Any]:
    return {
        "catalog": ctx.catalog.catalog,
        "is_async": ctx.is_async,
        "run_id": ctx.run_id,
    }


def _retrying(
    node: Node, error: Exception, failed: int, place: Placement, events: RunEvents
) -> None:
    attempt = _attempt.get()
    events.emit(
        "node_retrying",
        node=node.name,
        placement=place.name,
        worker=attempt.worker if attempt else None,
        attempt=failed,
        error=error,
    )
    if attempt is not None:
        attempt.number = failed + 1


async def _save_one(node: Node, name: str, data: Any, ctx: RunContext) -> None:
    hooks = ctx.hooks
    if hooks.on_save:
        await hooks.call(
            "before_dataset_saved", dataset_name=name, data=data, node=node
        )
    await _saved(node, name, data, ctx)
    if hooks.on_save:
        await hooks.call("after_dataset_saved", dataset_name=name, data=data, node=node)


async def _saved(node: Node, name: str, data: Any, ctx: RunContext) -> None:
    """Save, reporting it to the run's events when someone listens."""
    events = ctx.events
    if events is None:
        await ctx.catalog.save(name, data)
        return
    start = events.now()
    await ctx.catalog.save(name, data)
    events.dataset("dataset_saved", node.name, name, start)


async def _save_concurrently(
    node: Node, outputs: dict[str, Any], ctx: RunContext
) -> None:
    """is_async: announce every output, save them all at once, report each save
    as it completes (Kedro's order of hooks)."""
    hooks = ctx.hooks
    for name, data in outputs.items():
        await hooks.call(
            "before_dataset_saved", dataset_name=name, data=data, node=node
        )

    async def save(name: str, data: Any) -> None:
        await _saved(node, name, data, ctx)
        await hooks.call("after_dataset_saved", dataset_name=name, data=data, node=node)

    await run_all([partial(save, name, data) for name, data in outputs.items()])


async def _stream_outputs(
    node: Node, outputs: dict[str, Any], ctx: RunContext, place: Placement
) -> None:
    """Save a generator node's outputs chunk by chunk, round robin across outputs.

    With one output each yielded item is saved separately; with several, the
    chunks alternate (first of each, second of each, ...) until one stream ends.
    """
    names = list(outputs)
    if len(names) == 1:
        streams: list[Any] = [outputs[names[0]]]
    else:
        streams = list(outputs.values())
    for name, stream in zip(cycle(names), cycle(streams), strict=False):
        more, chunk = await place.next_item(stream)
        if not more:
            return
        await _save_one(node, name, chunk, ctx)
