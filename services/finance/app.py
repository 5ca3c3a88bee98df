"""The finance API: ``create_app`` builds it; no I/O at import time."""

from __future__ import annotations

from flask import Flask

from services.finance.models import TABLES
from services.finance.worker import participant
from shared.http.app import service_app
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    return service_app(
        TABLES,
        participant(settings),
        settings,
        title="ParkHub Finance",
        description="Financing brokered by the park: subsidies, guaranteed loans, funds, leasing, IP-pledge loans.",
    )
