"""OpenTelemetry spans for runs, nodes and dataset I/O, read from the run events.

The ``dagloop[otel]`` extra installs ``opentelemetry-api``. As OpenTelemetry
asks of instrumented libraries, dagloop then reports to the global tracer
provider the application configured, with nothing else to switch on. While no
provider is configured, runs are not observed at all (rather than making no-op
spans): tracing costs nothing until an application asks for it, and nothing of
OpenTelemetry is imported when it is not installed.

Spans: ``dagloop.run`` (a child of the span current where ``run()``/``arun()``
was called, e.g. a web request's), ``dagloop.node`` for each node (a child of
the run's), ``dagloop.load`` / ``dagloop.save`` for each dataset (a child of its
node's). Their times are the events' own, so a span covers exactly what the
event reports.
"""

from __future__ import annotations

import importlib.util
import time
from functools import cache
from typing import TYPE_CHECKING, Any

from dagloop._text import error_line

if TYPE_CHECKING:
    from dagloop.runner._events import RunEvent

_SCOPE = "dagloop"


@cache
def _installed() -> bool:
    """Whether OpenTelemetry's API is installed (looked up once per process)."""
    try:
        return importlib.util.find_spec("opentelemetry") is not None
    except (ImportError, ValueError):  # blocked in sys.modules, or half-installed
        return False


def tracing_observer(runner: str) -> TracingObserver | None:
    """An observer making ``runner``'s run spans, if an application has set a
    tracer provider; ``None`` otherwise (the run is not observed for it)."""
    if not _installed():
        return None
    from opentelemetry import context, trace

    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return None  # no provider set: spans would go nowhere
    from dagloop import __version__

    tracer = provider.get_tracer(_SCOPE, __version__)
    return TracingObserver(trace, tracer, context.get_current(), runner)


class TracingObserver:
    """Turns one run's events into spans (an observer: see ``_events``)."""

    def __init__(self, trace: Any, tracer: Any, parent: Any, runner: str) -> None:
        """Spans from ``tracer``, the run's under the ``parent`` context;
        ``trace`` is OpenTelemetry's module, imported once by the caller."""
        self._trace = trace
        self._tracer = tracer
        self._parent = parent
        self._runner = runner
        self._run: Any = None
        self._nodes: dict[str, Any] = {}
        #: Wall-clock nanoseconds at the run's start, minus its events' offset.
        self._epoch = 0

    def __repr__(self) -> str:
        return "the OpenTelemetry tracer"

    def _ns(self, at: float) -> int:
        return self._epoch + int(at * 1e9)

    def put(self, event: RunEvent) -> None:
        """Start or end the span ``event`` begins or ends."""
        kind = event.kind
        if kind == "run_started":
            self._epoch = time.time_ns() - int(event.at * 1e9)
            attributes: dict[str, Any] = {
                "dagloop.run_id": event.run_id,
                "dagloop.runner": self._runner,
            }
            if event.nodes is not None:
                attributes["dagloop.nodes"] = event.nodes
            self._run = self._tracer.start_span(
                "dagloop.run",
                context=self._parent,
                attributes=attributes,
                start_time=self._ns(event.at),
            )
        elif kind == "node_started" and event.node is not None:
            self._nodes[event.node] = self._tracer.start_span(
                "dagloop.node",
                context=self._child_of(self._run),
                attributes={"dagloop.node": event.node},
                start_time=self._ns(event.at),
            )
        elif kind in ("node_finished", "node_failed"):
            span = self._nodes.pop(event.node or "", None)
            if span is not None:
                span.set_attributes(
                    {
                        "dagloop.placement": event.placement or "",
                        "dagloop.worker": str(event.worker or ""),
                        "dagloop.attempt": event.attempt or 1,
                    }
                )
                self._end(span, event)
        elif kind == "node_retrying":
            span = self._nodes.get(event.node or "")
            if span is not None:
                span.add_event(
                    "dagloop.retry",
                    attributes={
                        "dagloop.attempt": event.attempt or 1,
                        "exception.type": type(event.error).__name__,
                        "exception.message": str(event.error),
                    },
                    timestamp=self._ns(event.at),
                )
        elif kind in ("dataset_loaded", "dataset_saved"):
            duration = event.duration or 0.0
            span = self._tracer.start_span(
                "dagloop.load" if kind == "dataset_loaded" else "dagloop.save",
                context=self._child_of(self._nodes.get(event.node or "", self._run)),
                attributes={
                    "dagloop.dataset": event.dataset or "",
                    "dagloop.node": event.node or "",
                },
                start_time=self._ns(event.at - duration),
            )
            span.end(end_time=self._ns(event.at))
        elif kind in ("run_finished", "run_failed") and self._run is not None:
            for span in self._nodes.values():  # nodes the run never finished
                self._end(span, event)
            self._nodes.clear()
            self._end(self._run, event)
            self._run = None

    def close(self) -> None:
        """Nothing left open: the run's end ended every span."""

    def _child_of(self, span: Any) -> Any:
        return self._trace.set_span_in_context(span, self._parent)

    def _end(self, span: Any, event: RunEvent) -> None:
        """End ``span`` at ``event``, marked as an error if it carries one."""
        if event.error is not None:
            status = self._trace.Status(
                self._trace.StatusCode.ERROR, error_line(event.error)
            )
            span.set_status(status)
            if isinstance(event.error, Exception):
                span.record_exception(event.error, timestamp=self._ns(event.at))
        span.end(end_time=self._ns(event.at))
