"""The finance API: ``create_app`` builds it; no I/O at import time."""

from __future__ import annotations

from flask import Flask

from services.finance.api import applications, documents, offers, payouts, products, reports, reviews
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
        blueprints=[
            products.blp,
            applications.blp,
            reviews.blp,
            offers.blp,
            documents.blp,
            payouts.blp,
            reports.blp,
        ],
        title="ParkHub Finance",
        description="Financing brokered by the park: subsidies, guaranteed loans, funds, leasing, IP-pledge loans. "
        "Tenants apply, the desk pre-reviews and routes, partners review and offer, the tenant compares the "
        "offers by their all-in annual cost and accepts one.",
    )
