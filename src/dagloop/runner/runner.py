"""``AbstractRunner``: Kedro's runner contract on top of dagloop's async core.

``run()`` and ``arun()`` are the same run: ``run()`` drives ``arun()`` through
:func:`dagloop._bridge.run_sync`, so it works with or without an event loop
already running in the thread. Subclasses only choose a policy (see
``SequentialRunner``, ``ThreadRunner`` and ``ParallelRunner``).
"""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import threading
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from functools import cache
from time import perf_counter
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from uuid import uuid4

import anyio
from anyio.lowlevel import RunVar

from dagloop._bridge import on_asyncio, run_on_own_loop, run_sync, stop_requested
from dagloop._workers.pool import WorkerPool, default_pool
from dagloop.framework.hooks.manager import _NullPluginManager
from dagloop.io._async import in_io_thread, loop_limiter
from dagloop.io._http_client import http_pool_scope
from dagloop.pipeline import Pipeline
from dagloop.pipeline._controls import _positive_int, _seconds
from dagloop.runner._concurrency import FirstFailure
from dagloop.runner._errors import RunTimeoutError
from dagloop.runner._events import (
    DEFAULT_CAPACITY,
    CallbackObserver,
    Observer,
    RunEvent,
    RunEvents,
    Subscriber,
    check_callback,
)
from dagloop.runner._foreign import adopt
from dagloop.runner._hooks import HookCaller
from dagloop.runner._node_run import CatalogIO, RunContext
from dagloop.runner._placement import (
    AsyncPlacement,
    InlinePlacement,
    Placement,
    Placements,
    ProcessPlacement,
    ThreadPlacement,
    check_picklable,
)
from dagloop.runner._progress import ProgressObserver
from dagloop.runner._quota import RateLimit
from dagloop.runner._resume import (  # noqa: F401  (importable from here, as in Kedro)
    _build_node_children_map,
    _determine_nodes_to_run,
    _enumerate_nodes_with_outputs,
    _enumerate_non_persistent_inputs,
    _find_all_nodes_for_resumed_pipeline,
    _find_initial_node_group,
    _find_nodes_to_resume_from,
    _has_missing_persistent_outputs,
    _is_dataset_ephemeral_or_missing,
    _is_persistent_dataset_missing,
    _nodes_with_external_inputs,
    _outputs_needed_by_children,
    _should_node_run,
)
from dagloop.runner._scheduler import Scheduler
from dagloop.runner._stream import RunStream
from dagloop.runner._tracing import tracing_observer

T = TypeVar("T")

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
    from concurrent.futures import Executor

    from dagloop.pipeline.node import Node

# Kedro's private helpers (``_find_nodes_to_resume_from``, ...) stay importable
# from this module, as from ``kedro.runner.runner``, without being public API.
__all__ = ["AbstractRunner", "Policy", "RunRequest", "RunResources"]

_MAX_WINDOWS_WORKERS = 61

#: The runner's log messages after a node failed (Kedro's words); the CLI,
#: which prints the hint its own way, leaves these records out.
NO_NODES_RAN = "No nodes ran. Repeat the previous command to attempt a new run."
RESUME_HINT = (
    "There are %d nodes that have not run.\nYou can resume the pipeline run "
    "from the nearest nodes with persisted inputs by adding the following "
    'argument to your previous command:\n  --from-nodes "%s"'
)


@dataclass(frozen=True)
class Policy:
    """How a runner runs nodes: the one thing runners differ in."""

    #: Where sync nodes run unless a node says otherwise (a placement's name).
    default_sync: str
    #: One node at a time, in ``pipeline.nodes`` order.
    sequential: bool
    #: Threads for sync nodes ("dagloop-threads" limiter).
    threads: int
    #: Worker processes for sync nodes ("dagloop-processes" limiter).
    processes: int


@dataclass(frozen=True)
class RunResources:
    """What a runner opened for one run (``AbstractRunner._resources``)."""

    #: Places beyond the common four (async, inline, thread, process).
    places: tuple[Placement, ...] = ()
    #: How the run reaches its catalog (default: ``CatalogIO`` of the catalog).
    catalog: CatalogIO | None = None


@dataclass(frozen=True)
class RunRequest:
    """One call of ``run()`` or ``arun()``: what to run, against what, and how."""

    pipeline: Pipeline
    catalog: Any
    hook_manager: Any = None
    run_id: str | None = None
    only_missing_outputs: bool = False
    #: Seconds the whole run may take (``run(timeout=...)``).
    timeout: float | None = None
    #: The event loop is dagloop's own (``run()``), not the caller's (``arun()``).
    owns_loop: bool = False
    #: ``arun()`` moved the run to a loop of its own in a worker thread: it must
    #: notice the caller's cancellation between nodes.
    in_own_thread: bool = False
    #: Who receives the run's events (``on_event=``, ``stream()``).
    observers: tuple[Observer, ...] = ()
    #: The run's event stream, once started (``None``: nobody listens).
    events: RunEvents | None = None
    #: For a Kedro pipeline, the Kedro node each dagloop node was built from:
    #: what hooks receive (``None``: the nodes themselves).
    hook_nodes: Mapping[Node, Any] | None = None


class AbstractRunner(ABC):
    """Runs a pipeline against a catalog; subclasses pick the execution policy."""

    #: Where this runner runs sync nodes by default (a placement's name).
    _default_sync: ClassVar[str] = "inline"
    #: Under ``arun()``, run a pipeline without ``async def`` nodes on a loop of
    #: its own in one worker thread (nodes inline there): one thread hop per run
    #: instead of one per node. For runners that run one node at a time.
    _own_thread_for_sync_pipelines: ClassVar[bool] = False

    def __init__(
        self,
        is_async: bool = False,
        *,
        max_concurrency: int | None = None,
        limits: Mapping[str, int] | None = None,
        pool: WorkerPool | None = None,
    ) -> None:
        """Create the runner.

        Args:
            is_async: Load a node's inputs, and save its outputs, concurrently.
            max_concurrency: At most this many ``async def`` nodes in flight at
                once (default: as many as are ready). Sync nodes are bounded by
                the runner's ``max_workers`` instead.
            limits: Per-tag limits. An int, e.g. ``{"api": 4, "db": 1}``: at
                most that many nodes carrying the tag run at once (a node with
                several limited tags holds a slot of each; per run). A
                :class:`RateLimit`, e.g. ``{"api": RateLimit(10, per=1)}``: at
                most that many attempts of such nodes start in any window of
                ``per`` seconds, shared by every run given the same object. Both
                for one tag: ``{"api": (4, RateLimit(10))}``.
            pool: The warm worker processes process nodes run in (default: the
                interpreter's shared pool, see ``WorkerPool``).

        Raises:
            ValueError: When ``max_concurrency`` or a limit is not positive.
            TypeError: When ``pool`` is not a ``WorkerPool``.
        """
        if pool is not None and not isinstance(pool, WorkerPool):
            raise TypeError(
                f"pool should be a dagloop.runner.WorkerPool, got {type(pool).__name__}"
            )
        self._pool = pool
        self._is_async = is_async
        if max_concurrency is not None and not _positive_int(max_concurrency):
            raise ValueError(
                f"max_concurrency should be a positive int (or None for no bound), "
                f"got {max_concurrency!r}"
            )
        self._max_concurrency = max_concurrency
        if limits is not None and not isinstance(limits, Mapping):
            raise TypeError(
                f"limits should map tags to positive ints or RateLimits, like "
                f"{{'api': 4}} or {{'api': (4, RateLimit(10))}}; "
                f"got {type(limits).__name__} {limits!r}"
            )
        #: Per tag: how many nodes may run at once (``{"api": 4}``).
        self._limits: dict[str, int] = {}
        #: Per tag: the quotas its nodes' starts draw from (``RateLimit``).
        self._rates: dict[str, tuple[RateLimit, ...]] = {}
        for tag, given in (limits or {}).items():
            self._limits, self._rates = _add_limit(
                tag, given, self._limits, self._rates
            )

    @property
    def _logger(self) -> logging.Logger:
        return logging.getLogger(self.__module__)

    # ------------------------------------------------------------- public API

    def run(
        self,
        pipeline: Pipeline,
        catalog: Any,
        hook_manager: Any = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
        *,
        timeout: float | None = None,
        on_event: Callable[[RunEvent], Any] | None = None,
        progress: bool = False,
    ) -> dict[str, Any]:
        """Run ``pipeline`` and return its free outputs' datasets.

        Works whether or not an event loop is running in this thread (e.g. in
        Jupyter): it never re-enters a running loop. Ctrl-C stops the run: nodes in
        flight are cancelled (processes killed) and ``KeyboardInterrupt`` is raised.

        Args:
            pipeline: The pipeline to run.
            catalog: Where inputs are loaded from and outputs saved to. Datasets
                the pipeline uses but the catalog lacks are added to it as
                ``MemoryDataset``s.
            hook_manager: A pluggy plugin manager with node/dataset hooks.
            run_id: An identifier passed to hooks.
            only_missing_outputs: Run only the nodes needed to produce persistent
                outputs that do not exist yet.
            timeout: Seconds the whole run may take (``RunTimeoutError`` after).
            on_event: Called with each :class:`RunEvent` as it happens, on the
                thread running the run (keep it quick; ``stream()`` buffers
                instead). An exception it raises is logged, not raised.
            progress: Show the run's progress on standard error: a progress bar
                on a terminal (with the ``dagloop[progress]`` extra, rich), a
                line per finished node elsewhere.

        Returns:
            ``{output name: dataset}`` for every free output of the pipeline.

        Raises:
            ValueError: When a free input of the pipeline is not in the catalog
                (before any node runs).
            RunTimeoutError: When ``timeout`` passes.
            KeyboardInterrupt: On Ctrl-C, once the run has stopped and the worker
                pool's idle processes are gone.
            Exception: A node's own exception, unchanged.
        """
        pipeline, hook_nodes = self._check_run_arguments(pipeline, timeout, on_event)
        request = RunRequest(
            pipeline,
            catalog,
            hook_manager,
            run_id,
            only_missing_outputs,
            timeout,
            owns_loop=True,
            observers=self._observers(on_event, progress),
            hook_nodes=hook_nodes,
        )
        try:
            return run_sync(self._run_async, request)
        except KeyboardInterrupt:
            # Ctrl-C leaves no worker: busy ones were killed as their calls were
            # cancelled; idle ones go now rather than at exit.
            (self._pool or default_pool()).stop_idle_workers()
            raise

    async def arun(
        self,
        pipeline: Pipeline,
        catalog: Any,
        hook_manager: Any = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
        *,
        on_event: Callable[[RunEvent], Any] | None = None,
        progress: bool = False,
    ) -> dict[str, Any]:
        """The same as :meth:`run`, awaited on the caller's event loop.

        Sync nodes and hooks never run on the caller's loop thread (unless a node
        asks for ``executor="inline"``), so an async application stays responsive.
        Cancelling the caller (an outer cancel scope, a cancelled request) cancels
        the run: async nodes are cancelled, worker processes killed, and threads
        that are still inside node code are abandoned (they finish on their own,
        their results discarded); outputs already saved stay saved. For a time
        limit, use the caller's tools: ``with anyio.fail_after(30):`` or
        ``async with asyncio.timeout(30):`` around the call.
        """
        pipeline, hook_nodes = self._check_run_arguments(pipeline, None, on_event)
        request = RunRequest(
            pipeline,
            catalog,
            hook_manager,
            run_id,
            only_missing_outputs,
            observers=self._observers(on_event, progress),
            hook_nodes=hook_nodes,
        )
        return await self._arun(request)

    @asynccontextmanager
    async def stream(
        self,
        pipeline: Pipeline,
        catalog: Any,
        hook_manager: Any = None,
        run_id: str | None = None,
        only_missing_outputs: bool = False,
        *,
        buffer: int = DEFAULT_CAPACITY,
    ) -> AsyncIterator[RunStream]:
        """Run as :meth:`arun` does, inside the block, and stream its events.

        ::

            async with runner.stream(pipeline, catalog) as run:
                async for event in run:
                    ...
            run.outputs  # what arun() returns

        The iteration ends when the run ends. Leaving the block before that
        cancels the run (as cancelling ``arun()`` does); a failed run raises its
        error, unchanged, as the block exits. The reader never holds the run up:
        events wait in a buffer; one more than ``buffer`` events behind loses new
        dataset events (counted in ``run.dropped``), never a run or node event.

        Raises:
            ValueError: For a ``buffer`` smaller than 1.
        """
        if not (isinstance(buffer, int) and buffer >= 1):
            raise ValueError(f"buffer should be a positive int, got {buffer!r}")
        pipeline, hook_nodes = self._check_run_arguments(pipeline, None)
        subscriber = Subscriber(buffer)
        run = RunStream(subscriber)
        request = RunRequest(
            pipeline,
            catalog,
            hook_manager,
            run_id,
            only_missing_outputs,
            observers=self._observers(None, False, subscriber),
            hook_nodes=hook_nodes,
        )

        async def go() -> None:
            try:
                run._outputs = await self._arun(request)
            except anyio.get_cancelled_exc_class():
                raise
            except BaseException as exc:  # raised by the block's exit, unwrapped
                run._failure = exc

        block_error: BaseException | None = None
        async with anyio.create_task_group() as group:
            group.start_soon(go)
            try:
                yield run
            except anyio.get_cancelled_exc_class():
                raise
            except BaseException as exc:  # the block's own error: stop the run
                block_error = exc
                group.cancel_scope.cancel()
            else:
                if not run.drained:  # left early: the run stops with the block
                    group.cancel_scope.cancel()
        if block_error is not None:
            raise block_error
        if run._failure is not None:
            raise run._failure

    async def _arun(self, request: RunRequest) -> dict[str, Any]:
        pipeline = request.pipeline
        if self._own_thread_for_sync_pipelines and not any(
            n.is_async or n.executor == "inline" for n in pipeline.nodes
        ):
            # Nothing asks for the caller's loop (no coroutine, no node marked
            # inline): the whole run goes to one thread, as run() would run it.
            own = replace(request, owns_loop=True, in_own_thread=True)
            return await run_on_own_loop(self._run_async, own, limiter=_run_threads())
        return await self._run_async(request)

    def _check_run_arguments(
        self,
        pipeline: Any,
        timeout: float | None,
        on_event: Callable[[RunEvent], Any] | None = None,
    ) -> tuple[Pipeline, Mapping[Node, Any] | None]:
        """Checks made in the caller's frame, so warnings point at its call.

        Returns:
            The pipeline to run (a Kedro pipeline rebuilt with dagloop nodes)
            and, for a Kedro pipeline, the Kedro node hooks get for each node.

        Raises:
            ValueError: For a ``timeout`` that is not a positive number of seconds.
            TypeError: For an ``on_event`` that is not callable, or a
                ``pipeline`` that is not one.
        """
        pipeline, hook_nodes = adopt(pipeline)
        check_callback(on_event)
        if timeout is not None and not _seconds(timeout, allow_zero=False):
            raise ValueError(
                f"timeout should be a positive number of seconds (or None), got {timeout!r}"
            )
        limited = self._limits.keys() | self._rates.keys()
        if not limited:
            return pipeline, hook_nodes
        used = set().union(*(n.tags for n in pipeline.nodes))
        unused = sorted(limited - used)
        if unused:
            warnings.warn(
                f"No node carries the limited tag(s) {unused}: their limits have no "
                f"effect. Check the tag names given in limits=.",
                UserWarning,
                stacklevel=3,
            )
        return pipeline, hook_nodes

    def _observers(
        self,
        on_event: Callable[[RunEvent], Any] | None,
        progress: bool,
        *more: Observer,
    ) -> tuple[Observer, ...]:
        """Who receives a run's events: the caller's callback, the progress
        display, a ``stream()``'s reader, and OpenTelemetry when an application
        has set a tracer provider."""
        observers: list[Observer] = list(more)
        if progress:
            observers.append(ProgressObserver())
        if on_event is not None:
            observers.append(CallbackObserver(on_event))
        tracer = tracing_observer(type(self).__name__)
        if tracer is not None:
            observers.append(tracer)
        return tuple(observers)

    # --------------------------------------------------------------- the run

    async def _run_async(self, request: RunRequest) -> dict[str, Any]:
        if not request.observers:
            return await self._run_guarded(request)
        # The run's clock starts here, on the loop that runs the run, and frames
        # all of it: preparation, every node, and the deadline. ``run_started``
        # comes once the run knows which nodes it runs (``_run_checked``).
        events = RunEvents(request.run_id or uuid4().hex, request.observers)
        try:
            outputs = await self._run_guarded(replace(request, events=events))
        except BaseException as exc:
            events.started(None)  # failed before knowing: still the first event
            events.emit(
                "run_failed",
                duration=events.now(),
                error=exc,
                resume_from=events.resume_from,
            )
            events.close()
            raise
        events.emit("run_finished", duration=events.now())
        events.close()
        return outputs

    async def _run_guarded(self, request: RunRequest) -> dict[str, Any]:
        async def run() -> dict[str, Any]:
            with anyio.move_on_after(request.timeout) as deadline:
                return await self._run_checked(request)
            assert deadline.cancelled_caught  # an outer cancellation propagates instead
            raise RunTimeoutError(request.timeout)  # type: ignore[arg-type]

        if request.owns_loop and _sigint_needs_translation():
            return await _sigint_as_cancellation(run)
        return await run()

    async def _run_checked(self, request: RunRequest) -> dict[str, Any]:
        # Preparing may build datasets from config (imports, constructors) and check
        # files: in a thread under arun(), so the host's loop never waits on it;
        # inline under run(), where the loop is dagloop's own and idle meanwhile,
        # and when it only registers memory datasets (nothing to wait for).
        prepare = _inline if request.owns_loop else in_io_thread
        pipeline, catalog = request.pipeline, request.catalog
        if request.only_missing_outputs:
            pipeline = await prepare(
                self._filter_pipeline_for_missing_outputs, pipeline, catalog
            )
        if request.events is not None:
            request.events.started(len(pipeline.nodes))
        await self._warm_up(pipeline, catalog, prepare)
        if self._is_async:
            self._logger.info(
                "Asynchronous mode is enabled for loading and saving data."
            )
        self._validate_catalog(catalog)
        self._validate_nodes(pipeline.nodes)
        self._set_manager_datasets(catalog)
        policy = self._policy(pipeline, request.owns_loop)
        start = perf_counter()
        async with (
            http_pool_scope(),  # one HTTP connection pool for the whole run
            self._resources(request, pipeline) as resources,
        ):
            await self._execute(request, pipeline, policy, resources)
        self._logger.info(
            "Pipeline execution completed successfully in %.1f sec.",
            perf_counter() - start,
        )
        return {name: catalog[name] for name in pipeline.outputs()}

    async def _warm_up(
        self, pipeline: Pipeline, catalog: Any, prepare: Callable[..., Awaitable[Any]]
    ) -> None:
        """Register every dataset the pipeline uses; check its free inputs exist.

        Undeclared datasets become runtime-pattern datasets (``MemoryDataset``),
        registered in ``catalog`` itself, as Kedro does. dagloop's catalog does
        that on the loop (no user constructor, no I/O, never waiting on its
        lock); what must be built from config, and every dataset of another
        catalog, is got through ``prepare`` (an I/O thread under ``arun()``).

        Raises:
            ValueError: Listing the free inputs the catalog does not provide.
        """
        names: Iterable[str] = pipeline.datasets()
        register = getattr(catalog, "_register_runtime", None)
        if register is None:
            await prepare(_check_and_get, pipeline, catalog, names)
            return
        _check_free_inputs(pipeline, catalog)
        left = register(names)
        if left:
            await prepare(_get_all, catalog, left)

    def _tag_limiters(self, pipeline: Pipeline) -> dict[str, anyio.CapacityLimiter]:
        """One limiter per limited tag some node of ``pipeline`` carries, for this run."""
        if not self._limits:
            return {}
        used = set().union(*(n.tags for n in pipeline.nodes))
        return {
            tag: anyio.CapacityLimiter(n)
            for tag, n in self._limits.items()
            if tag in used
        }

    @asynccontextmanager
    async def _resources(
        self, request: RunRequest, pipeline: Pipeline
    ) -> AsyncIterator[RunResources]:
        """What a run holds while its nodes run, beyond the common places (a
        cluster's client, say). Entered after the checks, before the first node;
        left once the last node is done, however the run ends."""
        yield RunResources()

    async def _execute(
        self,
        request: RunRequest,
        pipeline: Pipeline,
        policy: Policy,
        resources: RunResources,
    ) -> None:
        # A run with a deadline (its own ``timeout``'s scope, or one of the caller's)
        # must be able to stop whatever is in flight: no sync node may block the
        # loop then.
        deadline = math.isfinite(anyio.current_effective_deadline())
        placements = Placements(
            policy.default_sync,
            [*self._places(policy), *resources.places],
            deadline=deadline,
        )
        ctx = RunContext(
            catalog=resources.catalog or CatalogIO(request.catalog),
            hooks=HookCaller(
                request.hook_manager or _NullPluginManager(),
                in_thread=not request.owns_loop,
                nodes=request.hook_nodes,
            ),
            placements=placements,
            run_id=request.run_id,
            is_async=self._is_async,
            events=request.events,
            rates=self._rates,
        )
        scheduler = Scheduler(
            pipeline,
            ctx,
            sequential=policy.sequential,
            logger=self._logger,
            limiters=self._tag_limiters(pipeline),
            stop_requested=stop_requested if request.in_own_thread else None,
        )
        try:
            await scheduler.run()
        except Exception:
            self._suggest_resume_scenario(pipeline, scheduler.done, request.catalog)
            if request.events is not None:
                request.events.resume_from = tuple(
                    _resume_from(pipeline, scheduler.done, request.catalog)
                )
            raise

    def _places(self, policy: Policy) -> list[Placement]:
        """One instance of every place this run's nodes may go to.

        Limiters are per run: nodes of concurrent runs don't share their slots;
        the worker pool is shared, and caps all runs together.
        """
        pool = self._pool or default_pool()
        pool.reserve(policy.processes)
        return [
            AsyncPlacement(
                anyio.CapacityLimiter(self._max_concurrency)
                if self._max_concurrency
                else None
            ),
            InlinePlacement(),
            ThreadPlacement(
                anyio.CapacityLimiter(policy.threads), admit=not policy.sequential
            ),
            ProcessPlacement(pool, anyio.CapacityLimiter(policy.processes)),
        ]

    @abstractmethod
    def _policy(self, pipeline: Pipeline, owns_loop: bool) -> Policy:
        """How this runner runs ``pipeline``."""

    # ------------------------------------------------------ Kedro's extension points

    def _get_executor(self, max_workers: int) -> Executor | None:
        """Kept for API compatibility: dagloop's executors live in its async core."""
        return None

    def _validate_catalog(self, catalog: Any) -> None:
        """Check ``catalog`` suits this runner (nothing to check by default)."""
        return None

    @classmethod
    def _validate_nodes(cls, nodes: Iterable[Node]) -> None:
        """Check that the sync nodes bound for a worker process can be sent there.

        Raises:
            AttributeError: Kedro's "cannot be serialised" error listing the nodes.
        """
        check_picklable(
            n
            for n in nodes
            if not n.is_async and (n.executor or cls._default_sync) == "process"
        )

    def _set_manager_datasets(self, catalog: Any) -> None:
        """Prepare shared-memory datasets (nothing to do by default)."""
        return None

    def _get_required_workers_count(self, pipeline: Pipeline) -> int:
        """Workers the pipeline can use at most: nodes minus layers plus one."""
        return 1

    @classmethod
    def _validate_max_workers(cls, max_workers: int | None) -> int:
        """``None`` → CPU count (at most 61 on Windows); must be positive.

        Raises:
            ValueError: When ``max_workers`` is zero or negative.
        """
        if max_workers is None:
            count = _cpu_count()
            return (
                min(_MAX_WINDOWS_WORKERS, count) if sys.platform == "win32" else count
            )
        if max_workers <= 0:
            raise ValueError("max_workers should be positive")
        return max_workers

    # ------------------------------------------------- only_missing_outputs

    def _filter_pipeline_for_missing_outputs(
        self, pipeline: Pipeline, catalog: Any
    ) -> Pipeline:
        """The part of ``pipeline`` needed to create missing persistent outputs."""
        total = len(pipeline.nodes)
        ordered = list(reversed(pipeline.nodes))
        to_run = _determine_nodes_to_run(
            ordered, catalog, _build_node_children_map(pipeline), self._logger
        )
        if not to_run:
            self._logger.info(
                "Skipping all %d nodes (all persistent outputs exist)", total
            )
            return Pipeline([])
        filtered = pipeline.filter(node_names=[n.name for n in to_run])
        kept = len(filtered.nodes)
        if kept < total:
            skipped = sorted(
                {n.name for n in pipeline.nodes} - {n.name for n in to_run}
            )
            self._logger.info(
                "Skipping %d nodes with existing outputs: %s",
                total - kept,
                ", ".join(skipped),
            )
        self._logger.info("Running %d out of %d nodes", kept, total)
        return filtered

    # --------------------------------------------------------------- resuming

    def _suggest_resume_scenario(
        self, pipeline: Pipeline, done_nodes: Iterable[Node], catalog: Any
    ) -> None:
        """Log how to resume: ``--from-nodes`` with the nearest persisted inputs."""
        done = list(done_nodes)
        if not done:
            self._logger.warning(NO_NODES_RAN)
            return
        self._logger.warning(
            RESUME_HINT,
            len(pipeline.nodes) - len(set(done)),
            ",".join(_resume_from(pipeline, done, catalog)),
        )


def _add_limit(
    tag: str,
    given: Any,
    limits: dict[str, int],
    rates: dict[str, tuple[RateLimit, ...]],
) -> tuple[dict[str, int], dict[str, tuple[RateLimit, ...]]]:
    """Add ``limits=``'s entry for ``tag``: an int, a ``RateLimit``, or a tuple
    or list of them (at most one int).

    Raises:
        ValueError: For anything else, naming the tag.
    """
    parts = list(given) if isinstance(given, tuple | list) else [given]
    counts = [p for p in parts if not isinstance(p, RateLimit)]
    if len(counts) > 1 or not all(_positive_int(c) for c in counts) or not parts:
        raise ValueError(
            f"The limit for tag '{tag}' should be a positive int, a RateLimit, or "
            f"both in a tuple like (4, RateLimit(10)); got {given!r}"
        )
    if counts:
        limits = {**limits, tag: counts[0]}
    quotas = tuple(p for p in parts if isinstance(p, RateLimit))
    if quotas:
        rates = {**rates, tag: quotas}
    return limits, rates


def _resume_from(pipeline: Pipeline, done: Iterable[Node], catalog: Any) -> list[str]:
    """The nodes a failed run resumes from, sorted (none when none finished)."""
    done = set(done)
    if not done:
        return []
    remaining = set(pipeline.nodes) - done
    return sorted(_find_nodes_to_resume_from(pipeline, remaining, catalog))


async def _inline(func: Callable[..., T], *args: Any) -> T:
    return func(*args)


def _check_free_inputs(pipeline: Pipeline, catalog: Any) -> None:
    """Raise unless ``catalog`` provides every free input of ``pipeline``.

    Checked before anything is registered: afterwards every name is "in".

    Raises:
        ValueError: Listing the free inputs the catalog does not provide.
    """
    unsatisfied = {name for name in pipeline.inputs() if name not in catalog}
    if unsatisfied:
        error = ValueError(
            f"Pipeline input(s) {unsatisfied} not found in the {type(catalog).__name__}"
        )
        error.add_note(
            "Free inputs must be provided before the run: register them in the "
            "catalog (catalog['name'] = value, or a catalog entry), or add the "
            "nodes that produce them to the pipeline."
        )
        raise error


def _get_all(catalog: Any, names: Iterable[str]) -> None:
    """Get (build and register) every dataset in ``names``."""
    for name in names:
        catalog.get(name, fallback_to_runtime_pattern=True)


def _check_and_get(pipeline: Pipeline, catalog: Any, names: Iterable[str]) -> None:
    _check_free_inputs(pipeline, catalog)
    _get_all(catalog, names)


def _sigint_needs_translation() -> bool:
    """Whether Ctrl-C must be turned into cancellation by dagloop itself.

    asyncio's runner already cancels the main task on SIGINT and raises
    ``KeyboardInterrupt`` afterwards; trio raises it inside whichever task runs,
    so nodes would see ``KeyboardInterrupt`` instead of being cancelled.
    """
    return not on_asyncio() and threading.current_thread() is threading.main_thread()


async def _sigint_as_cancellation(func: Callable[[], Awaitable[T]]) -> T:
    """Run ``func()``; on SIGINT cancel it cleanly, then raise KeyboardInterrupt."""
    interrupted = False
    outcome: list[T] = []

    async with anyio.create_task_group() as group:
        failures = FirstFailure(group.cancel_scope.cancel)

        async def body() -> None:
            try:
                outcome.append(await func())
            except Exception as exc:
                failures.record(exc)  # raised below, after the group: never wrapped
            finally:
                group.cancel_scope.cancel()  # stops the signal watcher

        async def watch() -> None:
            nonlocal interrupted
            with anyio.open_signal_receiver(signal.SIGINT) as signals:
                async for _ in signals:
                    interrupted = True
                    group.cancel_scope.cancel()
                    return

        group.start_soon(watch)
        group.start_soon(body)
    if interrupted:
        raise KeyboardInterrupt
    failures.raise_first()
    return outcome[0]


#: Threads that whole runs moved off the caller's loop occupy, per event loop.
_RUN_THREADS = 40
_run_thread_limiter: RunVar[anyio.CapacityLimiter] = RunVar("dagloop_run_threads")


def _run_threads() -> anyio.CapacityLimiter:
    """The current loop's limiter for threads hosting whole runs ("dagloop-runs")."""
    return loop_limiter(_run_thread_limiter, _RUN_THREADS)


@cache
def _cpu_count() -> int:
    """The CPU count, read once (``os.cpu_count()`` reads a file on Linux)."""
    return os.cpu_count() or 1


def _required_workers(pipeline: Pipeline, max_workers: int) -> int:
    """Kedro's estimate of useful parallelism: nodes minus layers plus one."""
    return max(
        1, min(len(pipeline.nodes) - len(pipeline.grouped_nodes) + 1, max_workers)
    )
