"""The consulting API: ``create_app`` builds it; no I/O at import time."""

from __future__ import annotations

from flask import Flask

from services.consulting.models import NAME, directory
from services.consulting.worker import participant
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
        title="ParkHub Consulting",
        description="Professional services brokered by the park: tax, legal, IP, HR, R&D and manufacturing "
        "outsourcing.",
    )
