"""The platform's Prometheus metrics, declared once (prometheus-client); ``/metrics`` serves them.

Every process exposes its own (docs/OPERATIONS.md, "Metrics"): an API process and the gateway on
their own port at ``/metrics``, a worker and ``parkhub serve`` on ``PARKHUB_METRICS_PORT``. Under
gunicorn the workers write to one multiprocess directory (``PROMETHEUS_MULTIPROC_DIR``, set by
``parkhub api``/``parkhub gateway`` before anything imports prometheus-client), and a scrape
adds them up (:func:`scrape_registry`).

The outbox's gauges are not kept in memory: they are read from the outbox tables when Prometheus
scrapes (:class:`OutboxCollector`), one indexed query per database, so they are right whichever
process is scraped and cost nothing between scrapes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from shared.clock import as_utc, utcnow

if TYPE_CHECKING:
    from shared.db import Database

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter(
    "parkhub_http_requests_total",
    "HTTP requests answered, by service, method, route (the URL rule, not the path) and status.",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "parkhub_http_request_duration_seconds",
    "Time to answer an HTTP request, by service, method and route (the URL rule).",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
EVENTS_HANDLED = Counter(
    "parkhub_events_handled_total",
    "Deliveries of events to a service's handler, by service, event type and outcome "
    "(handled, duplicate, retried, dead_lettered, ignored).",
    ["service", "type", "outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "parkhub_webhook_deliveries_total",
    "Webhook delivery attempts by outcome (delivered, retry, failed, gone, refused).",
    ["outcome"],
)

UNMATCHED_ROUTE = "<unmatched>"
"""The route label of a request no URL rule matched (a 404 or 405 of the router): raw paths
would make the label's values unbounded."""
INVALID_TYPE = "<invalid>"
"""The type label of a message that is no valid envelope (dead-lettered before its type is known)."""


def multiprocess() -> bool:
    """Whether this process writes its metrics to a multiprocess directory (gunicorn)."""
    return bool(os.environ.get(MULTIPROC_ENV))


class _Process(Collector):
    """This process's own metrics (the default registry), when it is not in multiprocess mode."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


class OutboxCollector(Collector):
    """``parkhub_outbox_backlog{service}`` and ``parkhub_outbox_oldest_age_seconds{service}``,
    read at scrape time from each database's outbox: its unsettled rows (waiting to be published,
    or published on the embedded bus and not yet seen handled) through the partial index of them
    (``ix_outbox_unsettled``). A database that does not answer is left out of that scrape."""

    def __init__(self, databases: Callable[[], Sequence[Database]]) -> None:
        self.databases = databases

    def collect(self) -> Iterator[Metric]:
        backlog = GaugeMetricFamily(
            "parkhub_outbox_backlog", "Outbox rows not yet settled (published and confirmed).", labels=["service"]
        )
        age = GaugeMetricFamily(
            "parkhub_outbox_oldest_age_seconds",
            "Age of the oldest unsettled outbox row, in seconds (0 when there is none).",
            labels=["service"],
        )
        now = utcnow()
        for database in self.databases():
            outbox = database.messaging.outbox
            try:
                with database.reading() as session:
                    count, oldest = session.execute(
                        select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.settled_at.is_(None))
                    ).one()
            except Exception as exc:  # noqa: BLE001 - a scrape never fails for one database
                log.warning("metrics: the outbox of %s did not answer: %s", database.name, exc)
                continue
            backlog.add_metric([database.name], float(count))
            age.add_metric([database.name], max((now - as_utc(oldest)).total_seconds(), 0.0) if oldest else 0.0)
        yield backlog
        yield age


def scrape_registry(databases: Callable[[], Sequence[Database]] | Sequence[Database] = ()) -> CollectorRegistry:
    """What ``/metrics`` answers: this process's metrics (or, under gunicorn, every worker's, from
    the multiprocess directory) and the outbox gauges of ``databases``."""
    registry = CollectorRegistry(auto_describe=False)  # registering must not query the databases
    if multiprocess():
        MultiProcessCollector(registry)
    else:
        registry.register(_Process())
    if callable(databases):
        registry.register(OutboxCollector(databases))
    elif databases:
        fixed = tuple(databases)
        registry.register(OutboxCollector(lambda: fixed))
    return registry


def serve(port: int, registry: CollectorRegistry, *, addr: str = "0.0.0.0") -> Any:  # noqa: S104 - protect by network
    """Serve ``registry`` at ``http://addr:port/metrics`` from a daemon thread (workers and
    ``parkhub serve``, whose public port must not answer it)."""
    from prometheus_client import start_http_server  # noqa: PLC0415

    server, _thread = start_http_server(port, addr=addr, registry=registry)
    log.info("metrics at http://%s:%d/metrics", addr, server.server_port)
    return server
