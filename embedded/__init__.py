"""The whole platform in one process (the embedded mode, ``parkhub serve``): gateway, four services, the bus.

Every app is the same one the distributed mode runs under gunicorn; only the wiring differs:
the edge dispatches in-process, and one :class:`EmbeddedBus` thread relays every outbox and
feeds every inbox. One registry of metrics serves them all (:attr:`EmbeddedPlatform.metrics`:
every app's requests, every inbox's events, every database's outbox), at ``/metrics`` on
``PARKHUB_METRICS_PORT`` when set (``parkhub serve``), never on the public port: the edge answers
``/metrics`` with a 404 there.
"""

from __future__ import annotations

import importlib
from typing import Any

from flask import Flask

from gateway import worker as gateway_worker
from gateway.edge import Edge
from gateway.routes import route_table
from gateway.upstreams import InProcessUpstreams
from shared.bus.embedded_bus import EmbeddedBus
from shared.metrics import scrape_registry
from shared.settings import SERVICES, Settings


class EmbeddedPlatform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.service_apps: dict[str, Flask] = {
            name: importlib.import_module(f"services.{name}.app").create_app(settings) for name in SERVICES
        }
        gateway = gateway_worker.participant(settings)
        self.gateway_database = gateway.database
        participants = [gateway] + [
            importlib.import_module(f"services.{name}.worker").participant(settings) for name in SERVICES
        ]
        self.bus = EmbeddedBus(settings, participants)
        from gateway.app import create_app

        self.gateway_app = create_app(
            settings, upstreams=InProcessUpstreams(self.service_apps), bus_health=self.bus_health
        )
        self.wsgi = Edge(settings, self.gateway_app, self.service_apps, route_table(settings))
        databases = tuple(p.database for p in participants)
        self.metrics = scrape_registry(lambda: databases)
        """What ``/metrics`` answers for the whole platform (see the module docstring)."""

    def bus_health(self) -> dict[str, Any]:
        return {"transport": "memory", "status": "ok" if self.bus.running else "down"}

    def start(self) -> None:
        self.bus.start()

    def stop(self) -> None:
        self.bus.stop()
