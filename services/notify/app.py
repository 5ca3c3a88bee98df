"""The notify API: ``create_app`` builds it; no I/O at import time."""

from __future__ import annotations

from flask import Flask

from services.notify.api import notifications, preferences, timeline, webhooks
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
        blueprints=[notifications.blp, preferences.blp, webhooks.blp, timeline.blp],
        title="ParkHub Notify",
        description="Notifications to tenants, partners and staff (in the app and by e-mail), partner webhooks "
        "signed by the Standard Webhooks specification, and each organisation's timeline across services.",
    )
