"""The people notify writes to, kept from identity's user events.

A person's ``subject`` is the token's subject, ``user:<id>`` (the gateway's ``User.subject``),
which is what booking, consulting and finance put in ``booked_by``, ``submitted_by`` and
``applicant``; the event's ``username`` is the sign-in name, not the subject.

Order: the people table has no version column, so the event's time stands for it: an event older
than what the row was last written from (``updated_at``) changes nothing. The gateway's updates of
one user are serialised by its version check, so their events' times follow their versions. A row
made by ``/preferences`` before identity's event arrived (the language of a person notify did not
know yet) carries the oldest time there is, so the first event always fills it in; the language a
person chose is theirs and never taken from identity.

Making a person races: two first saves of ``/preferences`` of one person, or a save and identity's
event, can both find no row. :func:`person_for_update` inserts ``ON CONFLICT DO NOTHING`` and then
reads the row locked, so both go on with the one row (PostgreSQL makes the second insert wait for
the first transaction), and the later one applies its change over the first's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from services.notify.models import Person
from shared.clock import as_utc
from shared.db import UnitOfWork
from shared.events import Event

NOT_FROM_IDENTITY = datetime(1970, 1, 1, tzinfo=UTC)
"""``updated_at`` of a person notify has not yet heard of from identity (made by preferences)."""


def subject_of(user_id: str) -> str:
    """The token's subject of the user ``user_id`` (``gateway.models.User.subject``)."""
    return f"user:{user_id}"


def person_for_update(session: Session, subject: str, *, display_name: str, org_id: str, **more: Any) -> Person:
    """The person ``subject``, locked until the transaction ends. When notify has no row for them,
    one is made first from the given columns as a person not yet heard of from identity
    (``updated_at`` :data:`NOT_FROM_IDENTITY`, no language), with an insert that a concurrent
    insert of the same person does not fail (``ON CONFLICT DO NOTHING``): whoever inserted it, the
    caller gets the one row and sets what it means to over it."""
    person = session.get(Person, subject, with_for_update=True)
    if person is not None:
        return person
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(Person)
        .values(
            subject=subject,
            display_name=display_name,
            org_id=org_id,
            language=None,
            updated_at=NOT_FROM_IDENTITY,
            **{"roles": [], "active": True, **more},
        )
        .on_conflict_do_nothing()
    )
    person = session.get(Person, subject, with_for_update=True, populate_existing=True)
    assert person is not None  # inserted here, or by the transaction the insert waited for
    return person


def keep_person(event: Event, *, uow: UnitOfWork) -> None:
    """Insert or update the person ``identity.user.*`` describes (an older event never wins)."""
    data = event.data
    subject = subject_of(str(data["id"]))
    at = as_utc(event.time)
    person = person_for_update(uow.session, subject, display_name=str(data["display_name"]), org_id=str(data["org_id"]))
    if as_utc(person.updated_at) > at:
        return
    person.user_id = str(data["id"])
    person.display_name = str(data["display_name"])
    person.email = data.get("email") or None
    person.org_id = str(data["org_id"])
    person.roles = sorted({str(role) for role in data["roles"]})
    person.active = bool(data["active"])
    person.updated_at = at
