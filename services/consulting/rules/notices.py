"""The words of the messages the service writes itself, from their ``notice`` (a code and values,
``messages.notice``), in the reader's language. The row's ``body`` keeps the English as written
(a reader that does not know a notice, an export); readers get :func:`notice_text` rendered.

Kinds: ``sla_breached`` ``{"clock": "tenant"|"firm", "target": "first_response"|"resolution",
"target_minutes": int}`` (the breach job's desk note). Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from shared.i18n import Message, _

_MISSED: Mapping[tuple[str, str], Callable[[int], Message]] = {
    ("tenant", "first_response"): lambda minutes: _(
        "SLA missed: the park's first response to the tenant was due within {minutes} business minutes.",
        minutes=minutes,
    ),
    ("tenant", "resolution"): lambda minutes: _(
        "SLA missed: the park promised the tenant a resolution within {minutes} business minutes.",
        minutes=minutes,
    ),
    ("firm", "first_response"): lambda minutes: _(
        "SLA missed: the firm's first response was due within {minutes} business minutes.", minutes=minutes
    ),
    ("firm", "resolution"): lambda minutes: _(
        "SLA missed: the firm committed to a resolution within {minutes} business minutes.", minutes=minutes
    ),
}
"""A missed target's words, by clock and target."""


def missed_target(clock: str, target: str, minutes: int) -> Message:
    """The desk's note on a missed SLA target (the breach job writes its English as the body)."""
    return _MISSED[(clock, target)](minutes)


def notice_text(notice: Mapping[str, Any] | None, body: str) -> Message | str:
    """The words of a message: from its ``notice`` when it has one this module knows (a marked
    text, rendered in the reader's language), else ``body`` as written (a person's words, or a
    notice of a kind or shape not known here: the English the service stored)."""
    if not isinstance(notice, Mapping):
        return body
    if notice.get("kind") == "sla_breached":
        clock, target, minutes = notice.get("clock"), notice.get("target"), notice.get("target_minutes")
        if isinstance(clock, str) and isinstance(target, str) and (clock, target) in _MISSED and type(minutes) is int:
            return _MISSED[(clock, target)](minutes)
    return body
