"""dagloop inside a Kedro project: ``kedro run --runner=dagloop.runner.X``.

Loaded by Kedro itself, never by ``import dagloop``: dagloop declares :data:`plugin`
as a Kedro plugin (the ``kedro.hooks`` entry point), which Kedro loads when it
creates a session; ``dagloop.runner`` also calls :func:`register_runners` when
Kedro was imported first. It does two things:

- Kedro's session refuses a runner that is not an instance of Kedro's
  ``AbstractRunner`` (and gives ``ParallelRunner`` a ``SharedMemoryDataCatalog``).
  dagloop's runners are registered as virtual subclasses of Kedro's, so they
  pass those checks without inheriting any of Kedro's code.
- A Kedro project configures logging for the ``kedro`` logger (``logging.yml``:
  its level, often its handlers). Once a project's context exists, dagloop's
  records, unless the project configures the ``dagloop`` logger itself, go
  through the ``kedro`` logger, so node progress shows where Kedro's own
  runners would show it.
"""

from __future__ import annotations

import logging
from typing import Any

from kedro import runner as kedro_runner

from dagloop import runner as dagloop_runner
from dagloop.framework.hooks.markers import hook_impl

__all__ = ["connect_logging", "plugin", "register_runners"]


def register_runners() -> None:
    """Make dagloop's runners pass Kedro's ``isinstance`` checks (idempotent)."""
    kedro_runner.AbstractRunner.register(dagloop_runner.AbstractRunner)  # type: ignore[type-abstract]
    kedro_runner.SequentialRunner.register(dagloop_runner.SequentialRunner)
    kedro_runner.ThreadRunner.register(dagloop_runner.ThreadRunner)
    kedro_runner.ParallelRunner.register(dagloop_runner.ParallelRunner)


class _ThroughKedro(logging.Handler):
    """Hands each record of dagloop's loggers to the ``kedro`` logger's handlers
    (and, as that logger propagates, to the root's)."""

    def __init__(self) -> None:
        super().__init__()
        #: The level this bridge last gave the ``dagloop`` logger (the ``kedro``
        #: logger's); another level there is the project's own choice.
        self.synced = logging.NOTSET

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger("kedro").handle(record)


def connect_logging() -> None:
    """Route dagloop's log records through the ``kedro`` logger, at its level.

    Called again, follows the ``kedro`` logger's current level. Left alone when
    the project configures the ``dagloop`` logger itself (a level or a handler
    of its own, before or after): then its configuration applies.
    """
    ours = logging.getLogger("dagloop")
    bridge = next((h for h in ours.handlers if isinstance(h, _ThroughKedro)), None)
    if bridge is None:
        if ours.level != logging.NOTSET or ours.handlers:
            return
        bridge = _ThroughKedro()
        ours.addHandler(bridge)
        ours.propagate = False  # the ``kedro`` logger propagates to the root: once
    elif ours.level != bridge.synced:
        return
    # Records below the ``kedro`` logger's level are not even made: per-dataset
    # debug lines cost nothing.
    bridge.synced = logging.getLogger("kedro").getEffectiveLevel()
    ours.setLevel(bridge.synced)


class _Plugin:
    """What Kedro registers as dagloop's plugin (the entry point's object)."""

    @hook_impl
    def after_context_created(self, context: Any) -> None:
        """A project's session has configured logging by now: join it."""
        connect_logging()

    @hook_impl
    def before_pipeline_run(self, run_params: Any, pipeline: Any, catalog: Any) -> None:
        """Follow the ``kedro`` logger's level as it is when a run starts."""
        connect_logging()


#: The ``kedro.hooks`` entry point. Loading it registers the runners.
plugin = _Plugin()
register_runners()
