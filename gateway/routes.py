"""The one route table of ``/api/v1/<service>/...``.

Embedded mode dispatches it in-process (:mod:`gateway.edge`); distributed mode renders it into
nginx's configuration (:mod:`gateway.nginx`). Everything not routed to a service is the gateway's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.settings import SERVICES, Settings

GATEWAY_PORT = 8100
"""The gateway's default port in the distributed mode; each service follows it, in the order of
``SERVICES`` (booking 8101, consulting 8102, …), so adding a service to ``SERVICES`` gives it a
port with no table to edit (docs/SERVICE.md, step 1). ``PARKHUB_UPSTREAM_<NAME>`` overrides it."""


def default_port(name: str) -> int:
    """Where ``name`` (the gateway or a service) listens by default; ``KeyError``-free for any
    service in ``SERVICES``, ``ValueError`` for a name that is neither."""
    if name == "gateway":
        return GATEWAY_PORT
    return GATEWAY_PORT + 1 + SERVICES.index(name)


DEFAULT_PORTS = {name: default_port(name) for name in ("gateway", *SERVICES)}
"""The same, as a table of the services known at import (``parkhub api``'s default bind)."""


@dataclass(frozen=True)
class Route:
    service: str
    prefix: str
    upstream: str
    """Where the service's API process listens in the distributed mode."""


def route_table(settings: Settings) -> list[Route]:
    return [
        Route(
            service,
            f"/api/v1/{service}/",
            settings.upstreams.get(service, f"http://127.0.0.1:{default_port(service)}"),
        )
        for service in SERVICES
    ]


def route_for(routes: list[Route], path: str) -> Route | None:
    """The route serving ``path``, or None for the gateway's own paths."""
    for route in routes:
        if path.startswith(route.prefix) or path == route.prefix.rstrip("/"):
            return route
    return None


MiB = 1024 * 1024


@dataclass(frozen=True)
class LargeBody:
    """A path that takes bodies larger than the platform's ``max_body_bytes``: uploads.
    ``pattern`` is a regular expression that Python and nginx read alike (``^…$``, ``[^/]+``)."""

    service: str
    pattern: str
    limit: int


LARGE_BODIES = (
    LargeBody("consulting", r"^/api/v1/consulting/cases/[^/]+/messages$", 26 * MiB),
    LargeBody("finance", r"^/api/v1/finance/applications/[^/]+/documents$", 21 * MiB),
)
"""A case's message with its files: 5 files of 25 MiB together and the form around them (the
consulting route checks its own limit again, ``services/consulting/api/messages.UPLOAD_LIMIT``);
an application's document: one of 20 MiB and its form (``services/finance/api/documents.UPLOAD_LIMIT``)."""


def body_limit(settings: Settings, path: str) -> int:
    """The largest body the edge lets through to ``path``."""
    for large in LARGE_BODIES:
        if re.match(large.pattern, path):
            return max(large.limit, settings.max_body_bytes)
    return settings.max_body_bytes
