"""The consulting API: ``create_app`` builds it; no I/O at import time."""

from __future__ import annotations

from flask import Flask

from services.consulting.api import calendar, cases, catalogue, firms, meetings, messages, quotes, reports, valuations
from services.consulting.models import TABLES
from services.consulting.worker import participant
from shared.http.app import service_app
from shared.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    return service_app(
        TABLES,
        participant(settings),
        settings,
        blueprints=[
            catalogue.blp,
            firms.blp,
            calendar.blp,
            cases.blp,
            quotes.blp,
            meetings.blp,
            messages.blp,
            valuations.blp,
            reports.blp,
        ],
        title="ParkHub Consulting",
        description="Professional services brokered by the park: tax, legal, IP, HR, R&D and manufacturing "
        "outsourcing. Tenants submit cases, the desk triages them, partner firms work them under SLAs "
        "counted in business time.",
    )
