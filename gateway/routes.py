"""The one route table of ``/api/v1/<service>/...``.

Embedded mode dispatches it in-process (:mod:`gateway.edge`); distributed mode renders it into
nginx's configuration (:mod:`gateway.nginx`). Everything not routed to a service is the gateway's.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.settings import SERVICES, Settings

DEFAULT_PORTS = {"gateway": 8100, "booking": 8101, "consulting": 8102, "finance": 8103, "notify": 8104}


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
            settings.upstreams.get(service, f"http://127.0.0.1:{DEFAULT_PORTS[service]}"),
        )
        for service in SERVICES
    ]


def route_for(routes: list[Route], path: str) -> Route | None:
    """The route serving ``path``, or None for the gateway's own paths."""
    for route in routes:
        if path.startswith(route.prefix) or path == route.prefix.rstrip("/"):
            return route
    return None
