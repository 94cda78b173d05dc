"""``ThreadRunner``: sync nodes in worker threads, async nodes on the loop."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from dagloop.runner.runner import (
    AbstractRunner,
    Policy,
    _cpu_count,
    _required_workers,
)

if TYPE_CHECKING:
    from dagloop.pipeline import Pipeline

__all__ = ["ThreadRunner"]


class ThreadRunner(AbstractRunner):
    """Runs ready nodes concurrently: sync ones in up to ``max_workers`` threads.

    For I/O-bound sync code. ``async def`` nodes run on the event loop and take
    no thread, so ``max_workers`` does not limit them.
    """

    _default_sync = "thread"

    def __init__(
        self, max_workers: int | None = None, is_async: bool = False, **kwargs: Any
    ) -> None:
        """Create the runner.

        Args:
            max_workers: Threads for sync nodes (default: the CPU count; never more
                than the pipeline can use).
            is_async: Not supported (as in Kedro): warns and runs synchronously.
            **kwargs: ``max_concurrency``, ``limits``, ``pool`` (see
                ``AbstractRunner``).

        Raises:
            ValueError: When ``max_workers`` is not positive.
        """
        if is_async:
            warnings.warn(
                "'ThreadRunner' doesn't support loading and saving the node inputs "
                "and outputs asynchronously with threads. Setting 'is_async' to False.",
                stacklevel=2,
            )
        super().__init__(is_async=False, **kwargs)
        self._max_workers = self._validate_max_workers(max_workers)

    def _get_required_workers_count(self, pipeline: Pipeline) -> int:
        return _required_workers(pipeline, self._max_workers)

    def _policy(self, pipeline: Pipeline, owns_loop: bool) -> Policy:
        return Policy(
            default_sync=self._default_sync,
            sequential=False,
            threads=self._get_required_workers_count(pipeline),
            processes=_cpu_count(),
        )
