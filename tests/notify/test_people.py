"""identity.user.* keeps notify's people: subject as tokens carry it, newest event wins, a chosen
language is never overwritten by identity."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notify.models import Person
from shared.clock import as_utc
from shared.db import Database
from shared.events import Event
from shared.settings import Settings
from tests.booking.conftest import ORG_A, ORG_B
from tests.notify.conftest import deliver

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def user_event(type: str, at: datetime, **changes: Any) -> Event:
    data: dict[str, Any] = {
        "id": USER_ID,
        "username": "dora.wu",
        "display_name": "Dora Wu",
        "email": "dora@example.cn",
        "org_id": ORG_A,
        "roles": ["tenant_member"],
        "active": True,
        "version": 1,
    } | changes
    return Event(type=type, source="/parkhub/gateway", data=data, subject=USER_ID, orgid=data["org_id"], time=at)


USER_ID = str(uuid.UUID("00000000-0000-4000-8000-00000000d0aa"))
SUBJECT = f"user:{USER_ID}"


def person(db: Database) -> Person | None:
    with db.reading() as session:
        row = session.get(Person, SUBJECT)
        if row is not None:
            session.expunge(row)
        return row


def test_a_registered_user_becomes_a_person_under_the_tokens_subject(settings: Settings, db: Database) -> None:
    deliver(settings, user_event("identity.user.registered", T0))
    dora = person(db)
    assert dora is not None
    assert (dora.user_id, dora.display_name, dora.email, dora.org_id) == (USER_ID, "Dora Wu", "dora@example.cn", ORG_A)
    assert (dora.roles, dora.active, dora.language) == (["tenant_member"], True, None)
    assert as_utc(dora.updated_at) == T0


def test_a_newer_update_changes_the_person_and_an_older_one_arriving_late_does_not(
    settings: Settings, db: Database
) -> None:
    deliver(settings, user_event("identity.user.registered", T0))
    newer = user_event(
        "identity.user.updated",
        T0 + timedelta(minutes=2),
        org_id=ORG_B,
        roles=["tenant_admin", "tenant_member"],
        email=None,
        version=3,
    )
    older = user_event("identity.user.updated", T0 + timedelta(minutes=1), display_name="Old Name", version=2)
    deliver(settings, newer)
    deliver(settings, older)
    dora = person(db)
    assert dora is not None
    assert (dora.display_name, dora.org_id, dora.email) == ("Dora Wu", ORG_B, None)
    assert dora.roles == ["tenant_admin", "tenant_member"]

    deliver(settings, user_event("identity.user.updated", T0 + timedelta(minutes=3), active=False, version=4))
    dora = person(db)
    assert dora is not None and dora.active is False


def test_identity_never_overwrites_the_language_a_person_chose(settings: Settings, db: Database) -> None:
    deliver(settings, user_event("identity.user.registered", T0))
    with db.unit_of_work() as uow:
        row = uow.session.get(Person, SUBJECT)
        assert row is not None
        row.language = "en"
        uow.commit()
    deliver(settings, user_event("identity.user.updated", T0 + timedelta(minutes=1), display_name="Dora W.", version=2))
    dora = person(db)
    assert dora is not None and (dora.display_name, dora.language) == ("Dora W.", "en")
