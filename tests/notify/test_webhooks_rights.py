"""Every webhook route, for who may not: no token 401, a tenant or the park's staff 403 (the row
``manage_webhooks`` names partner agents only), another partner 404 (an endpoint is its
organisation's); none of them changes a row."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from services.notify.handlers.webhooks import enqueue
from services.notify.models import Base, WebhookDelivery
from shared.db import Database
from tests.booking.conftest import BANK, Api
from tests.endpoint_matrix import served_routes, snapshot
from tests.notify.conftest import event
from tests.notify.samples import sample

PREFIX = "/api/v1/notify"
WITH_BODY = {("/webhooks", "POST"), ("/webhooks/<uuid:endpoint_id>", "PATCH")}


def test_every_webhook_route_refuses_who_may_not(app: Flask, api: Api, db: Database) -> None:
    # a public address written as one: no DNS asked, and nothing is sent (the job does not run)
    created = api.post("/webhooks", {"url": "https://93.184.216.34/in", "event_types": ["*"]}, user="bank")
    assert created.status_code == 201, created.get_json()
    endpoint: dict[str, Any] = created.get_json()
    data = sample("finance.application.routed", partner_org_ids=[BANK], added_partner_org_ids=[BANK])
    with db.unit_of_work() as uow:
        enqueue(event("finance.application.routed", data), uow=uow)
        uow.commit()
    with db.session() as session:
        delivery_id = session.scalars(select(WebhookDelivery.id)).one()

    routes = sorted(route for route in served_routes(app, PREFIX) if route[0].startswith("/webhooks"))
    assert len(routes) == 11, routes
    before = snapshot(db, Base.metadata)
    for rule, method in routes:
        path = rule.replace("<uuid:endpoint_id>", endpoint["id"]).replace("<string:delivery_id>", delivery_id)
        headers = {"If-Match": f'"{endpoint["version"]}"'}
        body = {"url": "https://93.184.216.34/other", "event_types": ["*"]} if (rule, method) in WITH_BODY else None
        callers = {None: 401, "alice": 403, "desk": 403, "admin": 403}
        if "<uuid:endpoint_id>" in rule:
            callers["bank2"] = 404
        for user, status in callers.items():
            response = api.client.open(PREFIX + path, method=method, json=body, headers=api.headers(user, **headers))
            assert response.status_code == status, (method, rule, user, response.get_json())
            assert response.mimetype == "application/problem+json", (method, rule, user)
    assert snapshot(db, Base.metadata) == before
