"""The finance API: ``create_app`` builds it; no I/O at import time."""

from __future__ import annotations

from flask import Flask

from services.finance.models import NAME, directory
from services.finance.worker import participant
from shared.http.app import create_service_app
from shared.http.directory import directory_blueprint
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    parts = participant(settings)
    return create_service_app(
        NAME,
        settings=settings,
        database=parts.database,
        inbox=parts.inbox,
        blueprints=[directory_blueprint(NAME, directory)],
        title="ParkHub Finance",
        description="Financing brokered by the park: subsidies, guaranteed loans, funds, leasing, IP-pledge loans.",
    )
