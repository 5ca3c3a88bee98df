"""A person's preferences as they read them: their language (None: not chosen) and every kind of
notice with its choice (no row: both on), and the document's version (its ``ETag``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.notify.models import Person, Preference
from services.notify.rules.notices import KINDS
from services.notify.rules.preferences import KindChoice, version_of
from shared.principal import Principal


def choices_of(session: Session, subject: str) -> dict[str, KindChoice]:
    rows = {row.kind: row for row in session.scalars(select(Preference).where(Preference.subject == subject))}
    return {
        kind: KindChoice(kind, rows[kind].in_app, rows[kind].email) if kind in rows else KindChoice(kind)
        for kind in KINDS
    }


def preferences_view(language: str | None, choices: dict[str, KindChoice]) -> dict[str, Any]:
    return {
        "language": language,
        "kinds": [{"kind": c.kind, "in_app": c.in_app, "email": c.email} for c in choices.values()],
        "version": version_of(language, choices),
    }


def get_preferences(session: Session, actor: Principal) -> dict[str, Any]:
    """The caller's preferences (a person notify does not know yet has the defaults)."""
    language = session.scalar(select(Person.language).where(Person.subject == actor.subject))
    return preferences_view(language, choices_of(session, actor.subject))
