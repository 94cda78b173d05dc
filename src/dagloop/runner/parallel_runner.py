"""``ParallelRunner``: sync nodes in worker processes, async nodes on the loop.

Unlike Kedro's, dagloop's parallel runner keeps all I/O in the parent process: the
parent loads a node's inputs, sends the function and the input values to a worker,
and saves what comes back. So hooks run as in every other runner, datasets need
not be picklable, and outputs stay loadable after the runner is gone.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from dagloop.io import DataCatalog, MemoryDataset
from dagloop.runner.runner import (
    AbstractRunner,
    Policy,
    _cpu_count,
    _required_workers,
)

if TYPE_CHECKING:
    from dagloop.pipeline import Pipeline

__all__ = ["ParallelRunner", "ParallelRunnerManager"]


@cache
def _manager_class() -> type[Any]:
    from multiprocessing.managers import SyncManager

    class ParallelRunnerManager(SyncManager):
        """A ``multiprocessing`` manager serving ``MemoryDataset`` proxies.

        dagloop's runner does not need it; it is kept for code that shares
        ``SharedMemoryDataset``s with processes of its own.
        """

    ParallelRunnerManager.__module__ = __name__
    ParallelRunnerManager.register("MemoryDataset", MemoryDataset)
    return ParallelRunnerManager


#: A ``multiprocessing.managers.SyncManager`` serving ``MemoryDataset`` proxies
#: (Kedro's API); built on first access.
ParallelRunnerManager: type[Any]


def __getattr__(name: str) -> Any:
    # Defined on first use: importing multiprocessing.managers costs every
    # process that imports dagloop (worker processes included) ~50 ms.
    if name == "ParallelRunnerManager":
        return _manager_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _InProcessManager:
    """Stands in for a ``multiprocessing`` manager: its ``MemoryDataset``s
    live in this process (see ``ParallelRunner._set_manager_datasets``)."""

    MemoryDataset = MemoryDataset


class ParallelRunner(AbstractRunner):
    """Runs ready nodes concurrently: sync ones in up to ``max_workers`` processes.

    For CPU-bound Python code. Node functions must be picklable (module-level
    functions, not lambdas or closures); their inputs and results cross the
    process boundary by pickling. The processes are warm workers kept between
    runs (see ``WorkerPool``).
    """

    _default_sync = "process"

    def __init__(
        self, max_workers: int | None = None, is_async: bool = False, **kwargs: Any
    ) -> None:
        """Create the runner.

        Args:
            max_workers: Worker processes (default: the CPU count, at most 61 on
                Windows; never more than the pipeline can use).
            is_async: Load a node's inputs and save its outputs concurrently.
            **kwargs: ``max_concurrency``, ``limits``, ``pool`` (see
                ``AbstractRunner``).

        Raises:
            ValueError: When ``max_workers`` is not positive.
        """
        super().__init__(is_async=is_async, **kwargs)
        self._max_workers = self._validate_max_workers(max_workers)

    def _validate_catalog(self, catalog: Any) -> None:
        """Require a catalog made for multiprocessing, as Kedro does.

        dagloop itself would run with any catalog; requiring
        ``SharedMemoryDataCatalog`` keeps code portable between the two.

        Raises:
            AttributeError: For a catalog without ``validate_catalog``.
        """
        if not hasattr(catalog, "validate_catalog"):
            error = AttributeError(
                f"'{type(catalog).__name__}' object has no attribute 'validate_catalog'"
            )
            error.add_note(
                "ParallelRunner needs a SharedMemoryDataCatalog (from dagloop.io), "
                "or use ThreadRunner."
            )
            raise error

    def _set_manager_datasets(self, catalog: Any) -> None:
        """Give another catalog's (Kedro's) shared-memory datasets a store.

        dagloop's own ``SharedMemoryDataset`` holds data in the parent without a
        manager. Kedro's holds nothing until given one, and Kedro's session hands
        ``ParallelRunner`` a ``SharedMemoryDataCatalog`` of them. dagloop's
        workers never touch the catalog, so an in-process store serves: no
        manager process to start, no data pickled through it.
        """
        if isinstance(catalog, DataCatalog):
            return
        attach = getattr(catalog, "set_manager_datasets", None)
        if attach is not None:
            attach(_InProcessManager)

    def _get_required_workers_count(self, pipeline: Pipeline) -> int:
        return _required_workers(pipeline, self._max_workers)

    def _policy(self, pipeline: Pipeline, owns_loop: bool) -> Policy:
        if not self._is_async:
            self._logger.info(
                "Using synchronous mode for loading and saving data. Use the --async "
                "flag for potential performance gains."
            )
        return Policy(
            default_sync=self._default_sync,
            sequential=False,
            threads=min(32, _cpu_count() + 4),
            processes=self._get_required_workers_count(pipeline),
        )
