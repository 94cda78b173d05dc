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
    hop, lowest overhead). Under ``arun()`` the caller's loop never runs them: a
    pipeline of sync nodes only runs whole on a loop of its own in one worker
    thread (one hop per run); in a pipeline with ``async def`` nodes (they run on
    the caller's loop) or nodes marked ``executor="inline"``, each sync node hops
    to a worker thread.
    """

    _own_thread_for_sync_pipelines = True

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
