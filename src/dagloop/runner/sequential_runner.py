"""``SequentialRunner``: one node at a time, in ``pipeline.nodes`` order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagloop.runner.runner import AbstractRunner, Policy

if TYPE_CHECKING:
    from dagloop.pipeline import Pipeline

__all__ = ["SequentialRunner"]


class SequentialRunner(AbstractRunner):
    """Runs nodes one after another: predictable, easy to debug.

    Under ``run()`` sync nodes run inline on dagloop's own event loop (no thread
    hop, lowest overhead); under ``arun()`` they run in a worker thread so the
    caller's loop is never blocked. ``async def`` nodes are awaited either way.
    """

    def __init__(self, is_async: bool = False, **kwargs: Any) -> None:
        """Create the runner.

        Args:
            is_async: Load a node's inputs and save its outputs concurrently.
            **kwargs: ``max_concurrency``, ``limits``, ``pool`` (see
                ``AbstractRunner``).
        """
        super().__init__(is_async=is_async, **kwargs)

    def _policy(self, pipeline: Pipeline, owns_loop: bool) -> Policy:
        if not self._is_async:
            self._logger.info(
                "Using synchronous mode for loading and saving data. Use the --async "
                "flag for potential performance gains."
            )
        return Policy(
            default_sync=self._default_sync if owns_loop else "thread",
            sequential=True,
            threads=1,
            processes=1,
        )
