"""The platform's health as a monitor reads it: 200 with the report as plain JSON when all is well;
otherwise 503 ``application/problem+json`` (type ``…/problems/unavailable``) with ``Retry-After``,
carrying the whole report as extension members (``services``, ``bus``, ``errors``). Times in the
report are in park time, as everywhere else in the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask

from gateway.app import create_app
from gateway.upstreams import InProcessUpstreams
from shared.clock import PARK_TZ
from shared.settings import Settings
from tests.gateway.factories import OrganisationBody

PROBLEM = "application/problem+json"


def gateway(settings: Settings, bus: dict[str, Any]) -> Flask:
    return create_app(settings, upstreams=InProcessUpstreams({}), bus_health=lambda: bus)


def test_a_healthy_platform_answers_200_with_plain_json(gateway_settings: Settings) -> None:
    response = gateway(gateway_settings, {"status": "ok"}).test_client().get("/api/v1/health")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json["status"] == "ok" and "Retry-After" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_a_degraded_platform_is_a_503_problem_with_retry_after_and_the_whole_report(
    gateway_settings: Settings,
) -> None:
    bus = {"status": "down", "error": "ConnectionRefusedError"}
    response = gateway(gateway_settings, bus).test_client().get("/api/v1/health", headers={"Accept-Language": "zh"})
    assert response.status_code == 503
    assert response.mimetype == PROBLEM
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["type"] == "https://parkhub.tianfu-lifescience.cn/problems/unavailable"
    assert body["status"] == 503 and body["title"] and body["detail"]
    assert body["bus"] == bus
    assert body["errors"] == []
    assert body["services"]["gateway"]["status"] == "ok"
    assert body["services"]["gateway"]["database"]["status"] == "ok"


def test_the_outbox_backlog_gives_its_oldest_row_in_park_time(gateway_settings: Settings, bearer: Any) -> None:
    app = gateway(gateway_settings, {"status": "ok"})
    client = app.test_client()
    # No bus runs here: the registration's event stays pending in the gateway's outbox.
    created = client.post("/api/v1/organisations", json=OrganisationBody(), headers=bearer("admin"))
    assert created.status_code == 201
    outbox = client.get("/api/v1/health").json["services"]["gateway"]["outbox"]
    assert outbox["pending"] == 1
    oldest = datetime.fromisoformat(outbox["oldest"])
    assert outbox["oldest"].endswith("+08:00") and oldest.utcoffset() == datetime.now(PARK_TZ).utcoffset()
