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
"""

from __future__ import annotations

from datetime import UTC, datetime

from services.notify.models import Person
from shared.clock import as_utc
from shared.db import UnitOfWork
from shared.events import Event

NOT_FROM_IDENTITY = datetime(1970, 1, 1, tzinfo=UTC)
"""``updated_at`` of a person notify has not yet heard of from identity (made by preferences)."""


def subject_of(user_id: str) -> str:
    """The token's subject of the user ``user_id`` (``gateway.models.User.subject``)."""
    return f"user:{user_id}"


def keep_person(event: Event, *, uow: UnitOfWork) -> None:
    """Insert or update the person ``identity.user.*`` describes (an older event never wins)."""
    data = event.data
    subject = subject_of(str(data["id"]))
    at = as_utc(event.time)
    person = uow.session.get(Person, subject, with_for_update=True)
    if person is None:
        person = Person(subject=subject, language=None)
        uow.session.add(person)
    elif as_utc(person.updated_at) > at:
        return
    person.user_id = str(data["id"])
    person.display_name = str(data["display_name"])
    person.email = data.get("email") or None
    person.org_id = str(data["org_id"])
    person.roles = sorted({str(role) for role in data["roles"]})
    person.active = bool(data["active"])
    person.updated_at = at
