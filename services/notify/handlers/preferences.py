"""Saving a person's preferences: the whole document at once, under ``If-Match``.

The language is kept on the person (``Person.language``); a caller notify has not heard of from
identity yet gets a person row with what their token says and the oldest time there is, so
identity's first event about them fills in the rest (handlers/people.py) and keeps the language.
Two first saves at once, or a save racing identity's event, share the one row
(:func:`~services.notify.handlers.people.person_for_update`): neither fails, and the later save's
document is the one kept.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.notify.commands.preferences import SavePreferences
from services.notify.handlers.people import person_for_update
from services.notify.models import Preference
from services.notify.queries.preferences import choices_of, preferences_view
from services.notify.rules.preferences import check_kinds, version_of
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import check_version


def save_preferences(cmd: SavePreferences, *, uow: UnitOfWork) -> dict[str, Any]:
    """Replace the caller's preferences; answers them as they now are. 412 when ``If-Match``
    misses the current version; 422 for an unknown or repeated kind."""
    wanted = check_kinds(cmd.kinds)
    session = uow.session
    subject = cmd.actor.subject
    person = person_for_update(
        session, subject, display_name=cmd.actor.name or subject, org_id=cmd.actor.org_id, roles=sorted(cmd.actor.roles)
    )
    check_version(version_of(person.language, choices_of(session, subject)), cmd.expected_versions)
    now = utcnow()
    person.language = cmd.language
    rows = {row.kind: row for row in session.scalars(select(Preference).where(Preference.subject == subject))}
    for kind, choice in wanted.items():
        row = rows.get(kind)
        if row is None:
            row = Preference(subject=subject, kind=kind)
            session.add(row)
        if row.in_app != choice.in_app or row.email != choice.email or row.updated_at is None:
            row.in_app, row.email, row.updated_at = choice.in_app, choice.email, now
    session.flush()
    return preferences_view(cmd.language, wanted)
