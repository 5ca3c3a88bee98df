"""identity.user.*: the gateway tells other services (notify) who its users are, as it does for
organisations: one event per change, in the same transaction, valid by the contract, never a
password."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.models import User, database
from gateway.seed import DEMO, seed
from shared.events import validate
from shared.settings import Settings
from tests.gateway.factories import UserBody
from tests.gateway.test_organisations import org_id_of, outbox_events

USERS = "/api/v1/users"


def test_creating_a_user_publishes_one_registered_event_with_what_notify_needs(
    client: FlaskClient, bearer: Any, session: Any, db: Any
) -> None:
    body = UserBody(username="Dora.Wu", email="dora@example.cn")
    response = client.post(USERS, json=body, headers=bearer("alice", **{"X-Request-ID": "req-dora"}))
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.json
    (event,) = outbox_events(session, db)
    assert event.type == "identity.user.registered"
    assert event.correlationid == "req-dora"
    assert event.subject == created["id"]
    assert event.orgid == org_id_of(client, bearer, "alice")
    assert event.data == {
        "id": created["id"],
        "username": "dora.wu",
        "display_name": body["display_name"],
        "email": "dora@example.cn",
        "org_id": event.orgid,
        "roles": ["tenant_member"],
        "active": True,
        "version": 1,
    }
    validate(event.type, event.version, event.data)
    assert "password" not in json.dumps(event.to_dict())


def test_updating_a_user_publishes_the_new_state_and_a_new_password_alone_only_its_revocation(
    client: FlaskClient, bearer: Any, session: Any, db: Any
) -> None:
    user = session.scalar(select(User).where(User.username == "bob"))
    url = f"{USERS}/{user.id}"
    renamed = client.patch(
        url,
        json={"display_name": "Bob Li (lab)", "roles": ["tenant_admin"]},
        headers=bearer("admin", **{"If-Match": '"1"'}),
    )
    assert renamed.status_code == 200, renamed.get_data(as_text=True)
    # New roles also revoke the access tokens carrying the old ones (docs/identity.md, Revocation).
    (event, revoked) = outbox_events(session, db)
    assert event.type == "identity.user.updated"
    assert (event.data["display_name"], event.data["roles"], event.data["version"]) == (
        "Bob Li (lab)",
        ["tenant_admin"],
        2,
    )
    validate(event.type, event.version, event.data)
    assert revoked.type == "identity.access.revoked"
    assert (revoked.data["subject"], revoked.data["session_id"], revoked.data["reason"]) == (
        f"user:{user.id}",
        None,
        "roles_changed",
    )
    validate(revoked.type, revoked.version, revoked.data)

    deactivated = client.patch(url, json={"active": False}, headers=bearer("admin", **{"If-Match": '"2"'}))
    assert deactivated.status_code == 200
    events = outbox_events(session, db)
    assert [e.type for e in events[2:]] == ["identity.user.updated", "identity.access.revoked"]
    assert (events[2].data["active"], events[2].data["version"]) == (False, 3)
    assert events[3].data["reason"] == "deactivated"

    password = client.patch(
        url, json={"password": "a-brand-new-secret"}, headers=bearer("admin", **{"If-Match": '"3"'})
    )
    assert password.status_code == 200
    # No identity.user.updated (a password is nobody else's business), but the tokens taken with
    # the old password are revoked everywhere (docs/identity.md, Revocation).
    events = outbox_events(session, db)
    assert [(e.type, e.data["reason"]) for e in events[4:]] == [("identity.access.revoked", "password_changed")]
    validate(events[4].type, events[4].version, events[4].data)


def test_a_refused_change_publishes_nothing(client: FlaskClient, bearer: Any, session: Any, db: Any) -> None:
    user = session.scalar(select(User).where(User.username == "bob"))
    stale = client.patch(f"{USERS}/{user.id}", json={"active": False}, headers=bearer("admin", **{"If-Match": '"7"'}))
    assert stale.status_code == 412
    taken = client.post(USERS, json=UserBody(username="bob"), headers=bearer("alice"))
    assert taken.status_code == 409
    assert outbox_events(session, db) == []


def test_the_demo_seed_publishes_every_user_it_creates(empty_settings: Settings) -> None:
    seed(empty_settings)
    db = database(empty_settings)
    with db.reading() as session:
        envelopes = [json.loads(e) for e in session.scalars(select(db.messaging.outbox.c.envelope))]
        users = {u.id: u.username for u in session.scalars(select(User))}
    registered = {e["data"]["id"]: e["data"]["username"] for e in envelopes if e["type"] == "identity.user.registered"}
    assert registered == users
    assert {u.username for demo in DEMO for u in demo.users} == set(users.values())
