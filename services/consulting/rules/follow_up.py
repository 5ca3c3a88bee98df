"""What can still happen on a case that has ended (closed or cancelled): a short follow-up in its
thread, and nothing more on its quotes. Pure."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.consulting.rules.names import status_name
from shared.clock import PARK_TZ, as_utc
from shared.errors import Conflict
from shared.i18n import _

ENDED = ("closed", "cancelled")
FOLLOW_UP_DAYS = 14
"""Calendar days after a case ended during which its thread still takes messages: a question on
the invoice, a thank-you, a document that was promised. The case does not reopen; anything more
is a new case."""


def check_message_allowed(status: str, ended_at: datetime | None, now: datetime, *, for_tenant: bool = False) -> None:
    """A message on a case: always while it is open; on an ended case (``ended_at``: when it was
    closed or cancelled) for :data:`FOLLOW_UP_DAYS` calendar days, then ``rule/case-ended`` (409)."""
    if status not in ENDED or ended_at is None:
        return
    if as_utc(now) <= as_utc(ended_at) + timedelta(days=FOLLOW_UP_DAYS):
        return
    raise Conflict(
        _(
            "This case is {status} since {day}; its thread takes messages for {days} days after that. "
            "Submit a new case for anything more.",
            status=status_name(status, for_tenant=for_tenant),
            day=as_utc(ended_at).astimezone(PARK_TZ).date().isoformat(),
            days=FOLLOW_UP_DAYS,
        ),
        code="rule/case-ended",
        case_status=status,
    )


def check_quote_answerable(status: str, *, for_tenant: bool = False) -> None:
    """A quote is answered only while its case is open: ``rule/case-ended`` (409) once it is
    closed or cancelled (the fee of an ended case is no longer anybody's to accept)."""
    if status in ENDED:
        raise Conflict(
            _(
                "This case is {status}: its quotes can no longer be accepted or rejected.",
                status=status_name(status, for_tenant=for_tenant),
            ),
            code="rule/case-ended",
            case_status=status,
        )
