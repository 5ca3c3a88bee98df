"""The booking API: ``create_app`` builds it; no I/O at import time."""

from __future__ import annotations

from flask import Flask

from services.booking.api import availability, board, calendars, quotas, reports, reservations, series, spaces
from services.booking.api.booths import blp as booths_blp
from services.booking.api.park_days import blp as park_calendar_blp
from services.booking.api.rounds import blp as rounds_blp
from services.booking.models import TABLES
from services.booking.worker import participant
from shared.http.app import service_app
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    return service_app(
        TABLES,
        participant(settings),
        settings,
        blueprints=[
            spaces.blp,
            availability.blp,
            reservations.blp,
            series.blp,
            calendars.blp,
            reports.blp,
            board.blp,
            quotas.blp,
            booths_blp,
            park_calendar_blp,
            rounds_blp,
        ],
        title="ParkHub Booking",
        description="Conference rooms, halls and courts of Tianfu Life Science Park.",
    )
