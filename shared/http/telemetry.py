"""Every app's request metrics, its trace span, and its ``/metrics`` (docs/OPERATIONS.md).

- ``parkhub_http_requests_total{service,method,route,status}`` and
  ``parkhub_http_request_duration_seconds{service,method,route}``: ``route`` is the URL rule that
  matched (``/api/v1/consulting/cases/<case_id>``), never the raw path, so the labels' values stay
  bounded; a request no rule matched is ``<unmatched>``. ``method`` is one of GET, HEAD, POST,
  PUT, PATCH, DELETE and OPTIONS; any other method a client sends is ``<other>``. The labelled
  children are looked up once per (method, route, status) and kept: a request costs two
  dictionary look-ups, one increment and one observation, never registry work.
- A span per request (:func:`shared.tracing.span`): a child of the request's ``traceparent``
  header, or a new trace. It is current from before the view to the end of the request, so every
  log line and every event the request publishes carries it.
- ``GET /metrics`` at the root of the app's own port, without a token: the Prometheus text format
  (OpenMetrics when asked for) of this process (under gunicorn, of all its workers), with the
  outbox gauges of the app's database. The edge (nginx, the embedded edge) answers 404 for it:
  protect the processes' own ports by network.
- Measuring and tracing never fail a request: an error in them (a full disk under the
  multiprocess directory, a broken exporter) is logged as a warning, once per kind of error and
  hook, and the request is answered as if nothing was measured.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from flask import Flask, Response, abort, g, request
from prometheus_client import Counter, Histogram
from prometheus_client.exposition import choose_encoder

from shared.db import Database
from shared.metrics import HTTP_DURATION, HTTP_REQUESTS, UNMATCHED_ROUTE, scrape_registry
from shared.tracing import SpanKind, set_attribute, span

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
PUBLIC = "parkhub.public"
"""WSGI environ key the embedded edge sets on every request it passes on: such a request came
from the public port, where ``/metrics`` is a 404 (nginx answers it itself)."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "<other>"
"""The method label (and span name) of a request whose method is none of :data:`METHODS`: the
method is whatever a client sends, so its values would be unbounded."""
_warned: set[tuple[str, type[BaseException]]] = set()


def init_telemetry(app: Flask, service: str, database: Database) -> None:
    """Measure and trace every request of ``app``; serve ``/metrics`` with ``database``'s outbox."""
    children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    @app.before_request
    def _begin() -> None:
        g.telemetry_started = time.perf_counter()
        try:
            method, route = _method(), _route()
            stack = ExitStack()
            stack.enter_context(
                span(
                    f"{method} {route}",
                    traceparent=request.headers.get("traceparent"),
                    tracestate=request.headers.get("tracestate"),
                    kind=SpanKind.SERVER,
                    attributes={"http.request.method": method, "http.route": route, "parkhub.service": service},
                )
            )
            g.telemetry_span = stack
        except Exception as exc:  # noqa: BLE001 - tracing never fails a request
            _failed("tracing a request", exc)

    @app.after_request
    def _measure(response: Response) -> Response:
        try:
            _count(response)
        except Exception as exc:  # noqa: BLE001 - measuring never fails a request
            _failed("measuring a request", exc)
        return response

    def _count(response: Response) -> None:
        started = g.pop("telemetry_started", None)
        if started is not None:
            key = (_method(), _route(), response.status_code)
            measures = children.get(key)
            if measures is None:
                measures = children.setdefault(
                    key,
                    (
                        HTTP_REQUESTS.labels(service, key[0], key[1], str(key[2])),
                        HTTP_DURATION.labels(service, key[0], key[1]),
                    ),
                )
            measures[0].inc()
            measures[1].observe(time.perf_counter() - started)
            set_attribute("http.response.status_code", response.status_code)

    @app.teardown_request
    def _end(_error: BaseException | None) -> None:
        stack = g.pop("telemetry_span", None)
        if stack is not None:
            try:
                stack.close()
            except Exception as exc:  # noqa: BLE001 - tracing never fails a request
                _failed("ending a request's span", exc)

    app.add_url_rule(METRICS_PATH, "metrics", metrics_view(scrape_registry(lambda: (database,))))


def metrics_view(registry: Any) -> Callable[[], Response]:
    """A view answering ``registry`` in the format the scraper accepts."""

    def metrics() -> Response:
        if request.environ.get(PUBLIC):
            abort(404)
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        return Response(encoder(registry), status=200, headers={"Content-Type": content_type})

    return metrics


def _failed(what: str, exc: Exception) -> None:
    """Log a failure of the telemetry as a warning, once per hook and kind of error."""
    if (what, type(exc)) not in _warned:
        _warned.add((what, type(exc)))
        log.warning("%s failed, the request goes on unmeasured: %s: %s", what, type(exc).__name__, exc)


def _method() -> str:
    return request.method if request.method in METHODS else OTHER_METHOD


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else UNMATCHED_ROUTE
