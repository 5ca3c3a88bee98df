"""Role-level checks: members and partners get 403 on every administration endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.gateway.factories import OrganisationBody, UserBody

PROBLEM = "application/problem+json"


def admin_endpoints(client: FlaskClient, bearer: Any) -> list[tuple[str, str, dict[str, Any]]]:
    alice_org = client.get("/api/v1/me", headers=bearer("alice")).json["organisation"]["id"]
    bank_org = client.get("/api/v1/me", headers=bearer("bank")).json["organisation"]["id"]
    alice = client.get("/api/v1/users?q=alice", headers=bearer("admin")).json["items"][0]["id"]
    return [
        ("GET", "/api/v1/organisations", {}),
        ("POST", "/api/v1/organisations", {"json": OrganisationBody()}),
        ("PATCH", f"/api/v1/organisations/{alice_org}", {"json": {"status": "suspended"}}),
        ("GET", "/api/v1/users", {}),
        ("POST", "/api/v1/users", {"json": UserBody()}),
        ("PATCH", f"/api/v1/users/{alice}", {"json": {"active": False}}),
        ("GET", "/api/v1/api-clients", {}),
        ("POST", "/api/v1/api-clients", {"json": {"name": "x", "organisation_id": bank_org}}),
        ("GET", "/api/v1/api-clients/shudu-bank-demo", {}),
        ("PATCH", "/api/v1/api-clients/shudu-bank-demo", {"json": {"active": False}}),
        ("POST", "/api/v1/api-clients/shudu-bank-demo/rotate-secret", {}),
    ]


@pytest.mark.parametrize("username", ["bob", "bank", "client:shudu-bank-demo"])
def test_members_and_partners_get_403_on_administration(client: FlaskClient, bearer: Any, username: str) -> None:
    for method, path, kwargs in admin_endpoints(client, bearer):
        response = client.open(path, method=method, headers=bearer(username, **{"If-Match": '"1"'}), **kwargs)
        assert response.status_code == 403, (method, path, response.get_data(as_text=True))
        assert response.mimetype == PROBLEM
        assert response.json["type"].endswith("/forbidden")


def test_without_a_token_administration_is_401(client: FlaskClient, bearer: Any) -> None:
    for method, path, kwargs in admin_endpoints(client, bearer):
        response = client.open(path, method=method, **kwargs)
        assert response.status_code == 401, (method, path)
        assert response.mimetype == PROBLEM
