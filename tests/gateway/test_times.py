"""One timestamp rule (docs/API.md, "Times"): every timestamp in a gateway answer is RFC 3339 in
park time with its offset (+08:00), the same instant as stored in UTC; events keep UTC."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.models import ApiClient, Organisation, User
from tests.gateway.factories import OrganisationBody, UserBody

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def timestamps(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in an answer that is an RFC 3339 date-time, with where it is."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from timestamps(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from timestamps(item, f"{path}[{index}]")
    elif isinstance(value, str) and RFC3339.match(value):
        yield path, value


def test_every_timestamp_in_every_gateway_answer_is_park_time(client: FlaskClient, bearer: Any) -> None:
    admin = bearer("admin")
    bank = client.get("/api/v1/me", headers=bearer("bank")).json["organisation"]["id"]
    organisation = client.post("/api/v1/organisations", json=OrganisationBody(), headers=admin)
    user = client.post("/api/v1/users", json=UserBody(), headers=bearer("alice"))
    api_client = client.post("/api/v1/api-clients", json={"name": "Loan desk", "organisation_id": bank}, headers=admin)
    org_url = f"/api/v1/organisations/{organisation.json['id']}"
    user_url = f"/api/v1/users/{user.json['id']}"
    client_url = f"/api/v1/api-clients/{api_client.json['client_id']}"
    answers = [
        organisation,
        user,
        api_client,
        client.patch(org_url, json={"name_zh": "新名称"}, headers=bearer("admin", **{"If-Match": '"1"'})),
        client.patch(user_url, json={"display_name": "Nova"}, headers=bearer("alice", **{"If-Match": '"1"'})),
        client.patch(client_url, json={"name": "Loan desk 2"}, headers=bearer("admin", **{"If-Match": '"1"'})),
        client.post(f"{client_url}/rotate-secret", headers=admin),
        client.get(org_url, headers=admin),
        client.get(user_url, headers=admin),
        client.get(client_url, headers=admin),
        client.get("/api/v1/organisations", headers=admin),
        client.get("/api/v1/users", headers=admin),
        client.get("/api/v1/api-clients", headers=admin),
        client.get("/api/v1/me", headers=admin),
    ]
    for response in answers:
        assert response.status_code in (200, 201), response.get_data(as_text=True)
        found = list(timestamps(response.json))
        for where, value in found:
            assert value.endswith("+08:00"), f"{response.request.method} {response.request.path}{where} = {value}"
        assert found or response.request.path == "/api/v1/me"  # /me carries no timestamp


def test_park_time_is_the_stored_utc_instant(client: FlaskClient, bearer: Any, session: Any) -> None:
    admin = bearer("admin")
    answers = {
        "organisation": client.get("/api/v1/organisations?page_size=200", headers=admin).json["items"],
        "user": client.get("/api/v1/users?page_size=200", headers=admin).json["items"],
        "client": client.get("/api/v1/api-clients", headers=admin).json["items"],
    }
    stored = {
        "organisation": {o.id: o.created_at for o in session.scalars(select(Organisation))},
        "user": {u.id: u.created_at for u in session.scalars(select(User))},
        "client": {c.client_id: c.created_at for c in session.scalars(select(ApiClient))},
    }
    for kind, items in answers.items():
        for item in items:
            ident = item["client_id"] if kind == "client" else item["id"]
            at = stored[kind][ident]
            at = at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite hands back naive UTC
            assert datetime.fromisoformat(item["created_at"]) == at


def test_events_keep_utc_time(client: FlaskClient, bearer: Any, session: Any, db: Any) -> None:
    assert client.post("/api/v1/organisations", json=OrganisationBody(), headers=bearer("admin")).status_code == 201
    session.rollback()
    envelope = json.loads(session.scalars(select(db.messaging.outbox.c.envelope)).one())
    assert datetime.fromisoformat(envelope["time"]).utcoffset().total_seconds() == 0
