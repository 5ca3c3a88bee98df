"""The gateway's HTTP API: one flask-smorest Blueprint per resource; views stay thin.

The request path is the kernel's (``shared.http``, docs/SERVICE.md): ``requires`` checks the
caller's role first — before the body is parsed or an ``Idempotency-Key`` claimed, so a caller
who may not is told 401/403, never 422 — a view that changes something runs one handler with
``shared.http.views.execute`` (which commits, and turns a change that raced past ``If-Match``
into a 412), and a view that reads uses ``shared.http.views.reading``.
"""

from __future__ import annotations

from flask import current_app

from gateway.client_secrets import ClientSecrets

__all__ = ["current_client_secrets"]


def current_client_secrets() -> ClientSecrets:
    """The gateway's hasher of partner client secrets (made by ``create_app``)."""
    found: ClientSecrets = current_app.extensions["parkhub.client_secrets"]
    return found
