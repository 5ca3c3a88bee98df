"""The notify API: ``create_app`` builds it; no I/O at import time."""

from __future__ import annotations

from flask import Flask

from services.notify.models import TABLES
from services.notify.worker import participant
from shared.http.app import service_app
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    return service_app(
        TABLES,
        participant(settings),
        settings,
        title="ParkHub Notify",
        description="Notifications to tenants and staff, and webhooks to partner systems.",
    )
