"""/api/v1/api-clients: partners' machine clients, their secrets shown once, rotation, deactivation."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.models import ApiClient, AuditEntry

CLIENTS = "/api/v1/api-clients"
TOKEN = "/api/v1/auth/token"


def client_token(client: FlaskClient, client_id: str, secret: str) -> int:
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return client.post(TOKEN, data=form).status_code


def test_creating_shows_the_secret_once_and_keeps_only_its_hash(client: FlaskClient, bearer: Any, session: Any) -> None:
    bank_org = client.get("/api/v1/me", headers=bearer("bank")).json["organisation"]["id"]
    response = client.post(CLIENTS, json={"name": "Loan desk", "organisation_id": bank_org}, headers=bearer("admin"))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    created = response.json
    assert created["client_id"].startswith("partner_")
    assert created["roles"] == ["partner_agent"]
    secret = created["client_secret"]
    assert len(secret) >= 32
    stored = session.get(ApiClient, created["client_id"])
    assert secret not in stored.secret_hash
    read = client.get(f"{CLIENTS}/{created['client_id']}", headers=bearer("admin"))
    assert "client_secret" not in read.json
    assert client_token(client, created["client_id"], secret) == 200


def test_a_named_client_id_retried_is_409_not_a_twin(client: FlaskClient, bearer: Any) -> None:
    bank_org = client.get("/api/v1/me", headers=bearer("bank")).json["organisation"]["id"]
    body = {"name": "Loan desk", "organisation_id": bank_org, "client_id": "shudu-loan-desk"}
    assert client.post(CLIENTS, json=body, headers=bearer("admin")).status_code == 201
    again = client.post(CLIENTS, json=body, headers=bearer("admin"))
    assert again.status_code == 409
    assert again.json["type"].endswith("/client-id-taken")


def test_a_tenant_cannot_get_a_partner_agent_client(client: FlaskClient, bearer: Any) -> None:
    tenant = client.get("/api/v1/me", headers=bearer("alice")).json["organisation"]["id"]
    response = client.post(CLIENTS, json={"name": "x", "organisation_id": tenant}, headers=bearer("admin"))
    assert response.status_code == 422


def test_rotating_the_secret_stops_the_old_one_at_once(client: FlaskClient, bearer: Any, session: Any) -> None:
    response = client.post(f"{CLIENTS}/shudu-bank-demo/rotate-secret", headers=bearer("admin"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["version"] == 2
    assert response.json["secret_rotated_at"]
    assert client_token(client, "shudu-bank-demo", "parkhub-demo-bank-secret") == 401
    assert client_token(client, "shudu-bank-demo", response.json["client_secret"]) == 200
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == "shudu-bank-demo", AuditEntry.action == "secret_rotated")
    ).one()
    assert entry.action == "secret_rotated"


def test_deactivating_needs_if_match_and_is_audited(client: FlaskClient, bearer: Any, session: Any) -> None:
    url = f"{CLIENTS}/tianfu-bridge-law-demo"
    assert client.patch(url, json={"active": False}, headers=bearer("admin")).status_code == 428
    etag = client.get(url, headers=bearer("admin")).headers["ETag"]
    response = client.patch(url, json={"active": False}, headers=bearer("admin", **{"If-Match": etag}))
    assert response.status_code == 200
    assert response.json["active"] is False
    assert client_token(client, "tianfu-bridge-law-demo", "parkhub-demo-law-secret") == 401
    listed = client.get(f"{CLIENTS}?active=false", headers=bearer("admin")).json
    assert [c["client_id"] for c in listed["items"]] == ["tianfu-bridge-law-demo"]
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == "tianfu-bridge-law-demo", AuditEntry.action == "updated")
    ).one()
    assert (entry.from_state["active"], entry.to_state["active"]) == (True, False)


def test_an_unknown_client_is_404(client: FlaskClient, bearer: Any) -> None:
    assert client.get(f"{CLIENTS}/nobody", headers=bearer("admin")).status_code == 404
    assert client.post(f"{CLIENTS}/nobody/rotate-secret", headers=bearer("admin")).status_code == 404
