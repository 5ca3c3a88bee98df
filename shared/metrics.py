"""The platform's Prometheus metrics, declared once (prometheus-client); ``/metrics`` serves them.

Every process exposes its own; under gunicorn the workers share one multiprocess directory.
"""

from __future__ import annotations

from prometheus_client import Counter

WEBHOOK_DELIVERIES = Counter(
    "parkhub_webhook_deliveries_total",
    "Webhook delivery attempts by outcome (delivered, retry, failed, gone, refused).",
    ["outcome"],
)
