"""Notify's reactions to other services' events: event type → handler ``(event, *, uow)``.

- ``identity.organisation.*``: the organisation directory every service keeps;
- ``identity.user.*``: the people notify writes to (name, e-mail, organisation, roles);
- every event type of booking, consulting and finance (the rows of rules/recipients.py):
  notifications, e-mails, the timeline and partner webhooks (:func:`handlers.events.take`).
"""

from __future__ import annotations

from collections.abc import Callable

from services.notify.handlers.events import take
from services.notify.handlers.people import keep_person
from services.notify.models import TABLES
from services.notify.rules.recipients import AUDIENCES_BY_EVENT
from shared.directory import directory_handlers
from shared.events.identity import USER_REGISTERED, USER_UPDATED
from shared.revocation import revocation_handlers

HANDLERS: dict[str, Callable[..., None]] = {
    **directory_handlers(TABLES.directory),
    **revocation_handlers(TABLES.revocations),
    USER_REGISTERED.type: keep_person,
    USER_UPDATED.type: keep_person,
    **{event_type: take for event_type in AUDIENCES_BY_EVENT},
}
