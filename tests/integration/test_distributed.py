"""The distributed mode end to end: every process started by hand from the CLI, as compose does
(tests/integration/platform.py), against this machine's PostgreSQL and RabbitMQ. A client talks
only to nginx.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared.settings import SERVICES
from tests.integration.conftest import BusNamespaces, PostgresDatabases
from tests.integration.platform import Platform, running_platform

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]

MODULE_BUDGET_SECONDS = 100.0
PROPAGATION_SECONDS = 10.0
MAX_BODY_BYTES = 64 * 1024
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def platform(
    postgres_databases: PostgresDatabases, bus_namespaces: BusNamespaces, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    with running_platform(
        postgres_databases,
        bus_namespaces,
        tmp_path_factory,
        budget_seconds=MODULE_BUDGET_SECONDS,
        PARKHUB_RATE_LIMIT="20/second",
        PARKHUB_MAX_BODY_BYTES=str(MAX_BODY_BYTES),
    ) as platform:
        yield platform


def test_health_through_nginx_lists_every_service(platform: Platform) -> None:
    response = platform.request("GET", "/api/v1/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["services"]) == {"gateway", *SERVICES}
    assert all(service["status"] == "ok" for service in body["services"].values()), body
    assert response.headers["X-Request-ID"]


def test_one_openapi_document_covers_every_service_and_the_docs_page_is_served(platform: Platform) -> None:
    spec = platform.request("GET", "/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert "/api/v1/organisations" in paths
    for service in SERVICES:
        assert f"/api/v1/{service}/directory/organisations/{{org_id}}" in paths, sorted(paths)
    docs = platform.request("GET", "/docs")
    assert docs.status_code == 200
    assert docs.headers["Content-Type"].startswith("text/html")


def test_an_organisation_registered_at_the_gateway_reaches_every_service_and_so_do_its_updates(
    platform: Platform,
) -> None:
    name = f"Chengdu Cell Therapeutics {uuid.uuid4().hex[:6]}"
    created = platform.request("POST", "/api/v1/organisations", user="admin", json={"name": name, "kind": "tenant"})
    assert created.status_code == 201, created.text
    organisation = created.json()

    def directories(expect: str) -> dict[str, Any] | None:
        found = {}
        for service in SERVICES:
            response = platform.request(
                "GET", f"/api/v1/{service}/directory/organisations/{organisation['id']}", user="admin"
            )
            if response.status_code != 200 or response.json()["name"] != expect:
                return None
            found[service] = response.json()
        return found

    seen = platform.wait_for(lambda: directories(name), "the organisation in every directory", PROPAGATION_SECONDS)
    assert {entry["kind"] for entry in seen.values()} == {"tenant"}

    renamed = f"{name} (Tianfu)"
    patched = platform.request(
        "PATCH",
        f"/api/v1/organisations/{organisation['id']}",
        user="admin",
        json={"name": renamed},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert patched.status_code == 200, patched.text
    seen = platform.wait_for(lambda: directories(renamed), "the update in every directory", PROPAGATION_SECONDS)
    assert {entry["version"] for entry in seen.values()} == {patched.json()["version"]}


def test_errors_at_the_edge_are_problems_and_carry_the_request_id(platform: Platform) -> None:
    unknown = platform.request("GET", "/api/v1/no-such-thing", headers={"X-Request-ID": "edge-test-42"})
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"].startswith(PROBLEM)
    assert unknown.headers["X-Request-ID"] == "edge-test-42"

    stamped = platform.request("GET", "/api/v1/booking/health", headers={"X-Request-ID": "not a valid id!"})
    assert stamped.status_code == 200
    assert stamped.headers["X-Request-ID"] not in ("", "not a valid id!")

    too_big = platform.request(
        "POST",
        "/api/v1/organisations",
        user="admin",
        data=b"x" * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert too_big.status_code == 413
    assert too_big.headers["Content-Type"].startswith(PROBLEM)
    assert too_big.json()["status"] == 413
    assert too_big.json()["request_id"] == too_big.headers["X-Request-ID"]


def test_a_cors_preflight_from_the_portal_is_answered_by_nginx(platform: Platform) -> None:
    preflight = platform.request(
        "OPTIONS",
        "/api/v1/organisations",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "PATCH"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "If-Match" in preflight.headers["Access-Control-Allow-Headers"]
    stranger = platform.request(
        "OPTIONS",
        "/api/v1/organisations",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PATCH"},
    )
    assert "Access-Control-Allow-Origin" not in stranger.headers


def test_a_client_over_its_rate_limit_gets_429_with_retry_after(platform: Platform) -> None:
    # Its own credential, so its own allowance: 20 per second, here spent in one burst.
    headers = {"Authorization": "Bearer rate-limit-probe"}
    statuses = []
    for _ in range(100):
        response = platform.request("GET", "/api/v1/booking/health", headers=headers)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert response.status_code == 429, statuses
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["Content-Type"].startswith(PROBLEM)
    assert response.json()["status"] == 429
    assert statuses.count(200) >= 15
    # Others are not held back by this client.
    assert platform.request("GET", "/api/v1/booking/health").status_code == 200
