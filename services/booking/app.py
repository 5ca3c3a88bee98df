"""The booking API: ``create_app`` builds it; no I/O at import time."""

from __future__ import annotations

from flask import Flask

from services.booking.api import availability, calendars, quotas, reports, reservations, series, spaces
from services.booking.models import NAME, directory
from services.booking.worker import participant
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
        blueprints=[
            spaces.blp,
            availability.blp,
            reservations.blp,
            series.blp,
            calendars.blp,
            reports.blp,
            quotas.blp,
            directory_blueprint(NAME, directory),
        ],
        title="ParkHub Booking",
        description="Conference rooms, halls and courts of Tianfu Life Science Park.",
    )
