"""Making a person notify does not know yet, on PostgreSQL, where two transactions really overlap:
two first saves of ``/preferences`` at once, a save at once with identity's event about the same
person, and two of identity's events at once all answer (none trips over the other's insert of the
person), and leave one person with what each of them meant to set."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from services.notify.commands.preferences import SavePreferences
from services.notify.handlers.people import keep_person
from services.notify.handlers.preferences import save_preferences
from services.notify.models import Person, Preference
from shared.clock import as_utc
from shared.db import Database
from shared.principal import Principal
from tests.notify.test_feed_postgres import at_once, pg
from tests.notify.test_people import SUBJECT, USER_ID, user_event

__all__ = ["pg"]

pytestmark = pytest.mark.postgres

DORA = Principal(SUBJECT, "org-a", "tenant", frozenset({"tenant_member"}), "Dora (token)")
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
ROUNDS = 5


def save(database: Database, language: str, kinds: list[Any]) -> dict[str, Any]:
    with database.unit_of_work() as uow:
        answer = save_preferences(SavePreferences(DORA, language, kinds, None), uow=uow)
        uow.commit()
    return answer


def keep(database: Database, at: datetime) -> None:
    with database.unit_of_work() as uow:
        keep_person(user_event("identity.user.registered", at), uow=uow)
        uow.commit()


def forget(database: Database) -> None:
    with database.unit_of_work() as uow:
        uow.session.query(Preference).filter_by(subject=SUBJECT).delete()
        uow.session.query(Person).filter_by(subject=SUBJECT).delete()
        uow.commit()


def people(database: Database) -> list[Person]:
    with database.reading() as session:
        found = list(session.scalars(select(Person).where(Person.subject == SUBJECT)))
        session.expunge_all()
        return found


def test_two_first_saves_at_once_both_answer_and_one_of_them_is_kept(pg: Database) -> None:
    muted = [{"kind": "booking", "in_app": True, "email": False}]
    for _ in range(ROUNDS):
        answers = at_once(4, lambda i: save(pg, "en" if i % 2 else "zh", muted))
        assert not [a for a in answers if isinstance(a, Exception)], answers
        (dora,) = people(pg)
        assert dora.language in {"en", "zh"} and dora.display_name == "Dora (token)"
        with pg.reading() as session:
            booking = session.get(Preference, (SUBJECT, "booking"))
            assert booking is not None and (booking.in_app, booking.email) == (True, False)
        forget(pg)


def test_a_first_save_at_once_with_identitys_event_keeps_both(pg: Database) -> None:
    for _ in range(ROUNDS):
        answers = at_once(2, lambda i: keep(pg, T0) if i else save(pg, "en", []))
        assert not [a for a in answers if isinstance(a, Exception)], answers
        (dora,) = people(pg)
        # Identity's data, whichever came first, and the language the person chose.
        assert (dora.user_id, dora.display_name, dora.email, dora.language) == (
            USER_ID,
            "Dora Wu",
            "dora@example.cn",
            "en",
        )
        forget(pg)


def test_identitys_events_about_a_new_person_at_once_both_apply(pg: Database) -> None:
    later = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    for _ in range(ROUNDS):
        answers = at_once(2, lambda i: keep(pg, later if i else T0))
        assert not [a for a in answers if isinstance(a, Exception)], answers
        (dora,) = people(pg)
        assert as_utc(dora.updated_at) == later  # the newer event wins whichever order they committed in
        forget(pg)
