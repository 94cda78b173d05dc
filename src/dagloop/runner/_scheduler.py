"""The one async core: resolve DAG readiness and run every node.

Every runner is a configuration of :class:`Scheduler`: which executor runs sync
nodes (see ``_placement``) and whether nodes run one at a time in
``pipeline.nodes`` order or as soon as their parents are done.

Readiness is tracked with a counter of unfinished parents per node: finishing a
node costs O(its children), never a scan of the graph. A concurrent run uses one
task group; the first node failure is recorded, cancels everything in flight and
stops new work, and is raised unchanged once the group has exited (see
``_concurrency.FirstFailure``), so callers never see an ``ExceptionGroup`` for a
node error.
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from functools import partial
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel

from dagloop.runner._concurrency import FirstFailure
from dagloop.runner._node_run import RunContext, run_node
from dagloop.runner._placement import ThreadPlacement
from dagloop.runner._streams import DEFAULT_BUFFER, SAVER, Stream
from dagloop.runner._task_group import Spawner, node_task_group

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from dagloop.pipeline import Pipeline
    from dagloop.pipeline.node import Node


class Scheduler:
    """Runs one pipeline once."""

    def __init__(
        self,
        pipeline: Pipeline,
        ctx: RunContext,
        *,
        sequential: bool,
        logger: logging.Logger,
        limiters: Mapping[str, anyio.CapacityLimiter] | None = None,
        stop_requested: Callable[[], bool] | None = None,
    ) -> None:
        """Prepare the run.

        Args:
            pipeline: What to run.
            ctx: Catalog, hooks, placements and run settings shared by all nodes.
            sequential: Run nodes one at a time in ``pipeline.nodes`` order.
            logger: The runner's logger (``Completed node`` messages).
            limiters: Per-tag limiters: a node holds one slot of each of its
                tags' limiters while it runs.
            stop_requested: Whether a cancellation was posted from another
                thread: a sequential run then yields to the loop between nodes,
                so it is delivered even when no node ever waits.
        """
        self._pipeline = pipeline
        self._ctx = ctx
        self._sequential = sequential
        self._logger = logger
        self._nodes = pipeline.nodes
        self._load_counts = dict(pipeline._load_counts)
        self._free_inputs = pipeline._free_inputs
        self._free_outputs = pipeline._free_outputs
        self.done: list[Node] = []
        self._limiters = dict(limiters or {})
        #: How one node runs: holding its tags' slots, or straight away.
        self._run_node: Callable[[Node], Awaitable[None]] = (
            self._run_limited if self._limiters else partial(run_node, ctx)
        )
        self._stop_requested = stop_requested
        # Decided once per run: at WARNING (the usual production level) the two
        # progress messages per node would cost two logging calls for nothing.
        self._log_progress = logger.isEnabledFor(logging.INFO)

    async def run(self) -> None:
        """Run every node.

        Raises:
            Exception: The first node's failure, unchanged.
        """
        streams = self._open_streams()
        if streams:
            self._ctx.streams = streams
            self._ctx.streaming = frozenset(
                n.name
                for n in self._nodes
                if n._is_stream or any(name in streams for name in n.inputs)
            )
            threads = sum(
                1
                for n in self._nodes
                if n.name in self._ctx.streaming and not n.is_async
            )
            self._ctx.stream_threads = ThreadPlacement(
                anyio.CapacityLimiter(max(1, threads)), admit=False
            )
            try:
                await self._run_concurrently()
            finally:
                for stream in streams.values():
                    stream.discard()
            return
        if self._sequential:
            for node in self._nodes:
                if self._stop_requested and self._stop_requested():
                    await anyio.lowlevel.checkpoint()
                await self._run_node(node)
                if unused := self._finished(node):
                    await self._release(unused)
            return
        await self._run_concurrently()

    async def _run_concurrently(self) -> None:
        counts, children = self._pipeline._readiness
        waiting = list(counts)  # unfinished parents, by position in self._nodes
        async with node_task_group() as group:
            failures = FirstFailure(group.cancel)
            for index, count in enumerate(counts):
                if count == 0:
                    group.start(
                        self._run_one, index, group, failures, waiting, children
                    )
        failures.raise_first()

    async def _run_one(
        self,
        index: int,
        group: Spawner,
        failures: FirstFailure,
        waiting: list[int],
        children: tuple[tuple[int, ...], ...],
    ) -> None:
        node = self._nodes[index]
        # A stream's consumers are ready when it starts, not when it ends.
        producer = node._is_stream
        if producer:
            self._ready_children(index, group, failures, waiting, children)
        try:
            await self._run_node(node)
            if unused := self._finished(node):
                await self._release(unused)
        except Exception as exc:
            failures.record(exc, f"Node '{node.name}'")
            return
        if failures.first is not None or producer:
            return  # the run is stopping (start nothing new), or done already
        self._ready_children(index, group, failures, waiting, children)

    def _ready_children(
        self,
        index: int,
        group: Spawner,
        failures: FirstFailure,
        waiting: list[int],
        children: tuple[tuple[int, ...], ...],
    ) -> None:
        for child in children[index]:
            waiting[child] -= 1
            if waiting[child] == 0:
                group.start(self._run_one, child, group, failures, waiting, children)

    def _open_streams(self) -> dict[str, Stream]:
        """A :class:`Stream` per streaming node's output, read by each node
        consuming it and, for a dataset that persists (or that no node reads),
        by a saver. Streams run the nodes concurrently, even under a
        sequential policy: a consumer must read while its producer yields."""
        producers = [n for n in self._nodes if n._is_stream]
        if not producers:
            return {}
        catalog = self._ctx.catalog.catalog
        streams = {}
        for producer in producers:
            (name,) = producer.outputs
            readers = [n.name for n in self._nodes if name in n.inputs]
            _check_no_diamond(self._pipeline, producer, name, readers)
            dataset = catalog.get(name) if hasattr(catalog, "get") else None
            if not readers or not getattr(dataset, "_EPHEMERAL", False):
                readers.append(SAVER)
            buffer = producer._controls.buffer or DEFAULT_BUFFER
            streams[name] = Stream(name, readers, buffer)
        return streams

    async def _run_limited(self, node: Node) -> None:
        """Run ``node``, holding a slot of each limiter its tags ask for (a
        stream's nodes hold none: see ``run_node``)."""
        if node.name in self._ctx.streaming:
            await run_node(self._ctx, node)
            return
        limited = sorted(self._limiters.keys() & node._tags)
        # Always acquired in tag order, so two nodes never wait on each other.
        async with AsyncExitStack() as stack:
            for tag in limited:
                await stack.enter_async_context(self._limiters[tag])
            await run_node(self._ctx, node)

    def _finished(self, node: Node) -> list[str]:
        """Log completion; return the datasets no remaining node needs, to release.

        Sync, as most nodes leave nothing to release: the caller awaits the
        catalog only for what there is.
        """
        self.done.append(node)
        if self._log_progress:
            self._logger.info("Completed node: %s", node.name)
            self._logger.info(
                "Completed %d out of %d tasks", len(self.done), len(self._nodes)
            )
        counts = self._load_counts
        inputs, outputs, _ = node._io_names
        unused = []
        for name in inputs:
            counts[name] -= 1
            if counts[name] < 1 and name not in self._free_inputs:
                unused.append(name)
        free = self._free_outputs
        unused.extend(n for n in outputs if counts.get(n, 0) < 1 and n not in free)
        return unused

    async def _release(self, names: list[str]) -> None:
        for name in names:
            await self._ctx.catalog.release(name)


def _check_no_diamond(
    pipeline: Pipeline, producer: Node, stream: str, readers: list[str]
) -> None:
    """A reader of a stream must not also need another node that needs the
    same stream: it would start with the producer but wait for that node,
    which waits for the whole stream, while the producer waits on the
    reader's full buffer.

    Raises:
        ValueError: Naming the reader, the node in between and the fix.
    """
    downstream = {n.name for n in pipeline.from_nodes(producer.name).nodes}
    by_output = {out: n for n in pipeline.nodes for out in n.outputs}
    for reader_name in readers:
        reader = next(n for n in pipeline.nodes if n.name == reader_name)
        for name in reader.inputs:
            parent = by_output.get(name)
            if name != stream and parent is not None and parent.name in downstream:
                raise ValueError(
                    f"Node '{reader.name}' reads the stream '{stream}' of node "
                    f"'{producer.name}' and also '{name}', made by node "
                    f"'{parent.name}', which needs that stream too: '{reader.name}' "
                    f"would hold the stream up while waiting for '{parent.name}'. "
                    f"Read '{name}' in a node after '{reader.name}', or have "
                    f"'{parent.name}' pass the items on."
                )
