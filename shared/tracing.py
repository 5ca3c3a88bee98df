"""Traces across HTTP and the bus: the W3C trace context, with OpenTelemetry's API and propagator.

An HTTP request runs under a span whose parent is its ``traceparent`` header (a new trace when it
sends none or a malformed one); every event it publishes carries that span's ``traceparent`` in
its envelope (the CloudEvents distributed-tracing extension); an inbox handles an event under a
child span of the event's ``traceparent``, so the events a handler publishes carry its span. Every
log line written while a span is current names its ``trace_id`` and ``span_id``
(:func:`add_trace_ids`, a structlog processor): one journey is followed through every service by
its trace id.

Spans are exported only when configured, by OpenTelemetry's standard variable
``OTEL_TRACES_EXPORTER`` (``console``: the SDK's console exporter; ``otlp``: when an OTLP exporter
package is installed; ``none`` or unset: no export). Without an exporter no SDK span is made: a
span is the parent's trace id and a fresh span id in a non-recording span, which costs a random
number and a context variable.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = [
    "SpanKind",
    "add_trace_ids",
    "current_trace",
    "exporting",
    "reset",
    "span",
]

log = logging.getLogger(__name__)

PROPAGATOR = TraceContextTextMapPropagator()
TRACER_NAME = "parkhub"
NEW_TRACE_FLAGS = TraceFlags(TraceFlags.SAMPLED)
"""The flags of a trace started here without an exporter: sampled, so that a process further on
that does export (``ParentBased`` sampling, the SDK's default) records its part of the journey."""

_lock = threading.Lock()
_exporting: bool | None = None


def exporting() -> bool:
    """Whether spans are recorded and exported (``OTEL_TRACES_EXPORTER``); configured once per
    process, on first use."""
    global _exporting  # noqa: PLW0603 - one tracer provider per process, as OpenTelemetry has it
    if _exporting is None:
        with _lock:
            if _exporting is None:
                _exporting = _configure()
    return _exporting


def _configure() -> bool:
    names = [n.strip().lower() for n in os.environ.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    names = [n for n in names if n != "none"]
    if not names:
        return False
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415 - only when exporting
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import (  # noqa: PLC0415
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SimpleSpanProcessor,
    )

    provider = TracerProvider(
        resource=Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "parkhub")})
    )
    added = 0
    for name in names:
        if name == "console":
            provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
            added += 1
        elif name == "otlp":
            exporter = _otlp_exporter()
            if exporter is not None:
                provider.add_span_processor(BatchSpanProcessor(exporter))
                added += 1
        else:
            log.warning("OTEL_TRACES_EXPORTER: unknown exporter %r ignored", name)
    if not added:
        return False
    trace.set_tracer_provider(provider)
    return True


def _otlp_exporter() -> Any:
    """OTLP's span exporter when its package is installed (not a dependency of the platform)."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415
    except ImportError:
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # noqa: PLC0415
                OTLPSpanExporter,
            )
        except ImportError:
            log.warning("OTEL_TRACES_EXPORTER=otlp, but no OTLP exporter package is installed: no export")
            return None
    return OTLPSpanExporter()


def reset(*, exporting: bool | None = None) -> None:
    """Forget the configuration (tests): read ``OTEL_TRACES_EXPORTER`` again on next use."""
    global _exporting  # noqa: PLW0603
    _exporting = exporting


def _parent(traceparent: str | None, tracestate: str | None) -> otel_context.Context | None:
    """The context of a remote parent, or ``None`` (then the current context is the parent)."""
    if not traceparent:
        return None
    carrier = {"traceparent": traceparent}
    if tracestate:
        carrier["tracestate"] = tracestate
    extracted = PROPAGATOR.extract(carrier)
    if not trace.get_current_span(extracted).get_span_context().is_valid:
        return None  # malformed: ignored, as W3C says (a new trace, or the current one)
    return extracted


@contextmanager
def span(
    name: str,
    *,
    traceparent: str | None = None,
    tracestate: str | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[None]:
    """Run the block under a span named ``name``: a child of ``traceparent`` when it is a valid
    W3C trace parent (a remote caller, an event's envelope), else of the current span, else the
    first span of a new trace."""
    parent = _parent(traceparent, tracestate)
    if exporting():
        tracer = trace.get_tracer(TRACER_NAME)
        with tracer.start_as_current_span(name, context=parent, kind=kind, attributes=dict(attributes or {})):
            yield
        return
    above = trace.get_current_span(parent).get_span_context()
    if above.is_valid:
        context = SpanContext(
            above.trace_id, _span_id(), is_remote=False, trace_flags=above.trace_flags, trace_state=above.trace_state
        )
    else:
        context = SpanContext(_trace_id(), _span_id(), is_remote=False, trace_flags=NEW_TRACE_FLAGS)
    token = otel_context.attach(trace.set_span_in_context(NonRecordingSpan(context), parent))
    try:
        yield
    finally:
        otel_context.detach(token)


# Ids come from the operating system, not the ``random`` module: a request must not move the
# process's global random state (property-based tests replay it, and detect who moved it).
def _trace_id() -> int:
    return secrets.randbits(128) or 1


def _span_id() -> int:
    return secrets.randbits(64) or 1


def current_trace() -> tuple[str | None, str | None]:
    """The current span's ``traceparent`` and ``tracestate`` (``None`` outside any span)."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None, None
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    return carrier.get("traceparent"), carrier.get("tracestate") or None


def set_attribute(name: str, value: Any) -> None:
    """Set an attribute of the current span (nothing when spans are not recorded)."""
    trace.get_current_span().set_attribute(name, value)


def add_trace_ids(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the current span's ``trace_id`` and ``span_id`` on every log line."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", format(context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(context.span_id, "016x"))
    return event_dict
