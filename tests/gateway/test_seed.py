"""The demo seed (everything the README promises, through the handlers, a no-op the second time) and the audit trail."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from gateway.models import ApiClient, AuditEntry, Organisation, User, database
from gateway.seed import DEMO, DEMO_PASSWORD, seed
from shared.events.identity import ORGANISATION_KINDS
from shared.settings import Settings


def snapshot(settings: Settings) -> dict[str, object]:
    db = database(settings)
    with db.reading() as session:
        return {
            "organisations": sorted((o.id, o.name, o.version) for o in session.scalars(select(Organisation))),
            "users": sorted((u.id, u.username, u.password_hash, u.version) for u in session.scalars(select(User))),
            "clients": sorted((c.client_id, c.secret_hash) for c in session.scalars(select(ApiClient))),
            "audit": session.scalar(select(func.count()).select_from(AuditEntry)),
            "outbox": session.scalar(select(func.count()).select_from(db.messaging.outbox)),
        }


def test_seed_loads_the_demo_park_and_publishes_each_organisation(empty_settings: Settings) -> None:
    lines = seed(empty_settings)
    text = "\n".join(lines)
    usernames = [user.username for demo in DEMO for user in demo.users]
    assert {"admin", "desk", "desk2", "alice", "bank", "banker", "guarantor", "bureau", "bureau2"} <= set(usernames)
    for username in usernames:
        assert f"  {username} " in text
    assert DEMO_PASSWORD in text
    assert "client_secret=parkhub-demo-bank-secret" in text

    db = database(empty_settings)
    with db.reading() as session:
        organisations = {o.id: (o.kind, o.name_zh) for o in session.scalars(select(Organisation))}
        envelopes = [json.loads(e) for e in session.scalars(select(db.messaging.outbox.c.envelope))]
        roles = {u.username: u.roles for u in session.scalars(select(User))}
    # the operator, tenants and every kind of partner, each with a Chinese name
    assert {kind for kind, _ in organisations.values()} == set(ORGANISATION_KINDS)
    assert all(name_zh for _, name_zh in organisations.values())
    assert roles["admin"] == ["park_admin"]
    assert roles["bob"] == ["tenant_member"]
    assert set(roles) == set(usernames) and len(organisations) == len(DEMO)
    registered = [e for e in envelopes if e["type"] == "identity.organisation.registered"]
    assert len(registered) == len(organisations)
    assert {e["type"] for e in envelopes} == {"identity.organisation.registered", "identity.user.registered"}
    assert {e["data"]["id"] for e in registered} == set(organisations)


def test_seeding_twice_changes_nothing_and_keeps_what_was_added(empty_settings: Settings) -> None:
    first_lines = seed(empty_settings)
    db = database(empty_settings)
    with db.unit_of_work() as uow:  # something an administrator changed meanwhile
        bob = uow.session.scalar(select(User).where(User.username == "bob"))
        assert bob is not None
        bob.display_name = "Bob Li (lab manager)"
        uow.commit()
    before = snapshot(empty_settings)
    assert seed(empty_settings) == first_lines
    assert snapshot(empty_settings) == before
    with db.reading() as session:
        assert session.scalar(select(User.display_name).where(User.username == "bob")) == "Bob Li (lab manager)"


def test_the_audit_trail_is_append_only(gateway_settings: Settings) -> None:
    db = database(gateway_settings)
    with db.unit_of_work() as uow:
        entry = uow.session.scalars(select(AuditEntry)).first()
        assert entry is not None
        entry.reason = "rewritten history"
        with pytest.raises(PermissionError):
            uow.session.flush()
    with db.unit_of_work() as uow:
        entry = uow.session.scalars(select(AuditEntry)).first()
        uow.session.delete(entry)
        with pytest.raises(PermissionError):
            uow.session.flush()
