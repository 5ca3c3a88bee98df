"""/api/v1/organisations: who may see and change what, preconditions, idempotency, events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.models import AuditEntry, Organisation
from gateway.seed import DEMO, TENANTS
from shared.events import Event, validate
from tests.gateway.conftest import count
from tests.gateway.factories import OrganisationBody

PROBLEM = "application/problem+json"
ORGS = "/api/v1/organisations"


def outbox_events(session: Any, db: Any) -> list[Event]:
    session.rollback()
    rows = session.execute(select(db.messaging.outbox.c.envelope).order_by(db.messaging.outbox.c.id)).scalars()
    return [Event.from_dict(json.loads(row)) for row in rows]


def org_id_of(client: FlaskClient, bearer: Any, username: str) -> str:
    return str(client.get("/api/v1/me", headers=bearer(username)).json["organisation"]["id"])


def test_registering_writes_the_row_an_audit_entry_and_exactly_one_valid_event(
    client: FlaskClient, bearer: Any, session: Any, db: Any
) -> None:
    body = OrganisationBody(kind="cro_cdmo")
    response = client.post(ORGS, json=body, headers=bearer("admin", **{"X-Request-ID": "req-register-1"}))
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.json
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"] == f"{ORGS}/{created['id']}"
    assert {k: created[k] for k in body} == body
    assert created["status"] == "active"
    assert created["created_at"].endswith("+08:00")  # park time (docs/API.md, "Times")

    (event,) = outbox_events(session, db)
    assert event.type == "identity.organisation.registered"
    assert event.source == "/parkhub/gateway"
    assert event.correlationid == "req-register-1"
    assert event.subject == event.orgid == created["id"]
    assert event.to_dict()["dataschema"] == "urn:parkhub:identity.organisation.registered:1"
    assert event.data == {
        "id": created["id"],
        "name": body["name"],
        "name_zh": body["name_zh"],
        "kind": "cro_cdmo",
        "status": "active",
        "version": 1,
    }
    validate(event.type, event.version, event.data)  # the contract holds

    entry = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == created["id"])).one()
    assert (entry.action, entry.from_state, entry.correlation_id) == ("registered", None, "req-register-1")
    assert entry.actor.startswith("user:")


def test_validation_errors_are_422_per_field_and_write_nothing(
    client: FlaskClient, bearer: Any, session: Any, db: Any
) -> None:
    before = count(session, Organisation.__table__), count(session, AuditEntry.__table__)
    response = client.post(
        ORGS, json={"name": "", "kind": "spaceship", "contact_email": "not-an-email"}, headers=bearer("admin")
    )
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert set(response.json["errors"]) == {"name", "kind", "contact_email"}
    assert (count(session, Organisation.__table__), count(session, AuditEntry.__table__)) == before
    assert count(session, db.messaging.outbox) == 0


def test_a_taken_name_is_409_not_500(client: FlaskClient, bearer: Any, session: Any, db: Any) -> None:
    response = client.post(ORGS, json=OrganisationBody(name="Tianfu Bridge Law Firm"), headers=bearer("admin"))
    assert response.status_code == 409
    assert response.mimetype == PROBLEM
    assert response.json["type"].endswith("/organisation-name-taken")
    assert count(session, db.messaging.outbox) == 0


def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(
    client: FlaskClient, bearer: Any, session: Any, db: Any
) -> None:
    body = OrganisationBody()
    headers = bearer("admin", **{"Idempotency-Key": "register-minjiang"})
    first = client.post(ORGS, json=body, headers=headers)
    again = client.post(ORGS, json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["ETag"] == first.headers["ETag"]
    assert len(outbox_events(session, db)) == 1

    other = client.post(ORGS, json=OrganisationBody(), headers=headers)
    assert other.status_code == 422
    assert other.mimetype == PROBLEM
    assert other.json["type"].endswith("/idempotency-key-reused")
    assert len(outbox_events(session, db)) == 1


def test_patch_needs_a_current_if_match_and_publishes_the_update(
    client: FlaskClient, bearer: Any, session: Any, db: Any
) -> None:
    org_id = org_id_of(client, bearer, "alice")
    url = f"{ORGS}/{org_id}"
    current = client.get(url, headers=bearer("admin"))
    assert current.headers["ETag"] == '"1"'

    missing = client.patch(url, json={"status": "suspended"}, headers=bearer("admin"))
    assert missing.status_code == 428
    assert missing.mimetype == PROBLEM

    stale = client.patch(url, json={"status": "suspended"}, headers=bearer("admin", **{"If-Match": '"7"'}))
    assert stale.status_code == 412
    assert stale.json["current_etag"] == '"1"'

    changed = client.patch(
        url,
        json={"status": "suspended", "name_zh": "成都康晟细胞治疗股份有限公司"},
        headers=bearer("admin", **{"If-Match": current.headers["ETag"], "X-Request-ID": "req-suspend"}),
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.headers["ETag"] == '"2"'
    assert (changed.json["status"], changed.json["version"]) == ("suspended", 2)

    again = client.patch(url, json={"status": "active"}, headers=bearer("admin", **{"If-Match": '"1"'}))
    assert again.status_code == 412  # the first writer won; the second must read again

    event, *revocations = outbox_events(session, db)
    assert (event.type, event.correlationid) == ("identity.organisation.updated", "req-suspend")
    assert (event.data["status"], event.data["version"]) == ("suspended", 2)
    # The suspension also revokes the access tokens of the organisation's people (alice and bob),
    # in the same unit of work (docs/identity.md, "Revocation").
    assert [(e.type, e.data["reason"], e.correlationid) for e in revocations] == 2 * [
        ("identity.access.revoked", "organisation_suspended", "req-suspend")
    ]
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.entity_id == org_id, AuditEntry.action != "registered")
    ).one()
    assert entry.action == "status_changed"
    assert (entry.from_state["status"], entry.to_state["status"]) == ("active", "suspended")


def test_patch_cannot_change_the_kind(client: FlaskClient, bearer: Any) -> None:
    url = f"{ORGS}/{org_id_of(client, bearer, 'alice')}"
    response = client.patch(url, json={"kind": "bank"}, headers=bearer("admin", **{"If-Match": '"1"'}))
    assert response.status_code == 422
    assert "kind" in response.json["errors"]


def test_a_patch_that_changes_nothing_keeps_the_version_and_publishes_nothing(
    client: FlaskClient, bearer: Any, session: Any, db: Any
) -> None:
    url = f"{ORGS}/{org_id_of(client, bearer, 'alice')}"
    response = client.patch(url, json={"status": "active"}, headers=bearer("admin", **{"If-Match": '"1"'}))
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert outbox_events(session, db) == []


def test_staff_list_with_filters_and_pages(client: FlaskClient, bearer: Any) -> None:
    everyone = client.get(f"{ORGS}?page_size=5", headers=bearer("desk")).json
    assert everyone["total"] == len(DEMO)  # the demo organisations the rig seeds
    assert len(everyone["items"]) == 5
    tenants = client.get(f"{ORGS}?kind=tenant&page_size=200", headers=bearer("desk")).json
    assert {o["kind"] for o in tenants["items"]} == {"tenant"}
    assert tenants["total"] == len(TENANTS)
    by_chinese_name = client.get(f"{ORGS}?q=律师", headers=bearer("admin")).json
    assert [o["name"] for o in by_chinese_name["items"]] == ["Tianfu Bridge Law Firm"]
    assert client.get(f"{ORGS}?q=100%25", headers=bearer("admin")).json["total"] == 0  # % is literal
    bad = client.get(f"{ORGS}?kind=spaceship&page_size=0", headers=bearer("admin"))
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"kind", "page_size"}


@pytest.mark.parametrize("username", ["alice", "bob", "bank", "lawyer"])
def test_tenants_and_partners_read_only_their_own_organisation(client: FlaskClient, bearer: Any, username: str) -> None:
    own = org_id_of(client, bearer, username)
    assert client.get(f"{ORGS}/{own}", headers=bearer(username)).status_code == 200
    other = org_id_of(client, bearer, "carol")
    hidden = client.get(f"{ORGS}/{other}", headers=bearer(username))
    # Another organisation is answered exactly like one that does not exist.
    assert hidden.status_code == 404
    assert hidden.mimetype == PROBLEM
    nowhere = client.get(f"{ORGS}/00000000-0000-4000-8000-000000000000", headers=bearer(username))
    assert nowhere.status_code == 404
    assert client.get(ORGS, headers=bearer(username)).status_code == 403


def test_staff_read_any_organisation(client: FlaskClient, bearer: Any) -> None:
    carol_org = org_id_of(client, bearer, "carol")
    assert client.get(f"{ORGS}/{carol_org}", headers=bearer("desk")).status_code == 200


def test_desk_staff_may_read_but_not_change(client: FlaskClient, bearer: Any) -> None:
    assert client.post(ORGS, json=OrganisationBody(), headers=bearer("desk")).status_code == 403
    url = f"{ORGS}/{org_id_of(client, bearer, 'alice')}"
    assert (
        client.patch(url, json={"status": "suspended"}, headers=bearer("desk", **{"If-Match": '"1"'})).status_code
        == 403
    )
