"""Who may call an endpoint is decided before its body or query is read: an anonymous caller is a
401 and a caller without the role a 403 — never a 422 that lists the fields (which would tell a
stranger the shape of an administration endpoint) — and an ``Idempotency-Key`` they send claims
nothing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from shared.db import Database

PROBLEM = "application/problem+json"
BROKEN = {"json": {"name": 7, "kind": "nonsense", "roles": "x", "active": "perhaps"}}


def endpoints(client: FlaskClient, bearer: Any) -> list[tuple[str, str, dict[str, Any]]]:
    alice_org = client.get("/api/v1/me", headers=bearer("alice")).json["organisation"]["id"]
    alice = client.get("/api/v1/users?q=alice", headers=bearer("admin")).json["items"][0]["id"]
    return [
        ("GET", "/api/v1/organisations?kind=nonsense&page=-1", {}),
        ("POST", "/api/v1/organisations", BROKEN),
        ("PATCH", f"/api/v1/organisations/{alice_org}", BROKEN),
        ("GET", "/api/v1/users?active=perhaps", {}),
        ("POST", "/api/v1/users", BROKEN),
        ("PATCH", f"/api/v1/users/{alice}", BROKEN),
        ("GET", "/api/v1/api-clients?active=perhaps", {}),
        ("POST", "/api/v1/api-clients", BROKEN),
        ("PATCH", "/api/v1/api-clients/shudu-bank-demo", BROKEN),
    ]


def claims(db: Database) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(db.messaging.idempotency_keys)) or 0)


def test_an_anonymous_caller_is_a_401_before_the_body_is_read(client: FlaskClient, bearer: Any) -> None:
    for method, path, kwargs in endpoints(client, bearer):
        response = client.open(path, method=method, headers={"If-Match": '"1"'}, **kwargs)
        assert response.status_code == 401, (method, path, response.get_data(as_text=True))
        assert response.mimetype == PROBLEM and "errors" not in response.json


@pytest.mark.parametrize("username", ["bob", "bank", "client:shudu-bank-demo"])
def test_a_caller_without_the_role_is_a_403_before_the_body_is_read(
    client: FlaskClient, bearer: Any, username: str
) -> None:
    for method, path, kwargs in endpoints(client, bearer):
        response = client.open(path, method=method, headers=bearer(username, **{"If-Match": '"1"'}), **kwargs)
        assert response.status_code == 403, (method, path, response.get_data(as_text=True))
        assert response.mimetype == PROBLEM and "errors" not in response.json


def test_an_idempotency_key_from_a_caller_who_may_not_claims_nothing(
    client: FlaskClient, bearer: Any, db: Database
) -> None:
    before = claims(db)
    for headers, status in (({}, 401), (bearer("bob"), 403), (bearer("bank"), 403)):
        for path in ("/api/v1/organisations", "/api/v1/users"):
            response = client.post(path, headers={**headers, "Idempotency-Key": "k-1"}, **BROKEN)
            assert response.status_code == status, (path, response.get_data(as_text=True))
    assert claims(db) == before


def test_a_caller_with_the_role_still_gets_the_field_errors(client: FlaskClient, bearer: Any) -> None:
    response = client.post("/api/v1/organisations", headers=bearer("admin"), **BROKEN)
    assert response.status_code == 422 and set(response.json["errors"]) >= {"name", "kind"}
