"""What an event booking is for: a financing roadshow or a product launch (issue 10, journey 3).

A tenant with an accepted venture-capital or guide-fund offer (a *financing round*, which booking
learns from finance's ``finance.application.offer_accepted``) may book the park's event spaces, the
shared exhibition hall and the design release square, for a roadshow presenting that round; any
tenant may book them for a product launch. Both are large events: they always wait for the desk's
approval, whatever the space's own approval setting says (desk staff and park admin booking one
are the approvers, as for any booking). Pure: no Flask, no session.
"""

from __future__ import annotations

from collections.abc import Mapping

from shared.errors import RuleViolation
from shared.events.booking import PURPOSES
from shared.i18n import Message, _, register_labels

RESERVATION_PURPOSE = "reservation-purpose"
FINANCING_KIND = "financing-round-kind"

EVENT_SPACE_KINDS = ("exhibition_hall", "release_square")
"""The kinds of space an event booking (roadshow, product launch) is made in."""
ROUND_KINDS = ("venture_capital", "guide_fund")
"""The financing products whose accepted offer is a financing round (finance's ``product_kind``)."""

PURPOSE_NAMES: Mapping[str, Message] = {
    "roadshow": _("Financing roadshow"),
    "product_launch": _("Product launch"),
}
ROUND_KIND_NAMES: Mapping[str, Message] = {
    "venture_capital": _("Venture capital"),
    "guide_fund": _("Guide fund"),
}
register_labels(RESERVATION_PURPOSE, PURPOSE_NAMES)
register_labels(FINANCING_KIND, ROUND_KIND_NAMES)

assert set(PURPOSE_NAMES) == set(PURPOSES), "every purpose of the contract has its name"


def is_financing_round(product_kind: str) -> bool:
    """Whether an accepted offer of ``product_kind`` entitles its tenant to a roadshow."""
    return product_kind in ROUND_KINDS


def check_purpose(purpose: str | None, purpose_ref: str | None, space_kind: str) -> None:
    """The shape of an event booking, before any row is read: a purpose only in an event space
    (``rule/purpose-space``); ``purpose_ref`` only with a roadshow (``rule/purpose-ref``); a roadshow
    names its financing round (``rule/roadshow-without-round``). Whether that round exists and is
    the organisation's is :func:`check_round`."""
    if purpose is None:
        if purpose_ref is not None:
            raise RuleViolation(
                _("purpose_ref names the financing round of a roadshow; this booking has no purpose."),
                code="rule/purpose-ref",
            )
        return
    if space_kind not in EVENT_SPACE_KINDS:
        raise RuleViolation(
            _(
                "A financing roadshow or a product launch is booked in an event space: the shared exhibition "
                "hall or the design release square."
            ),
            code="rule/purpose-space",
            space_kinds=list(EVENT_SPACE_KINDS),
        )
    if purpose == "product_launch" and purpose_ref is not None:
        raise RuleViolation(
            _("A product launch needs no financing round: leave purpose_ref out."), code="rule/purpose-ref"
        )
    if purpose == "roadshow" and not purpose_ref:
        raise RuleViolation(
            _(
                "A financing roadshow needs an accepted venture-capital or guide-fund offer of your organisation: "
                "give its application as purpose_ref (GET /financing-rounds lists them)."
            ),
            code="rule/roadshow-without-round",
        )


def check_round(purpose_ref: str, found: bool) -> None:
    """A roadshow's ``purpose_ref`` must be a financing round of the booking organisation that
    still stands (``found``): else ``rule/roadshow-without-round``, saying what is missing."""
    if not found:
        raise RuleViolation(
            _(
                "Your organisation has no accepted venture-capital or guide-fund offer for application {ref}: "
                "a financing roadshow needs one (GET /financing-rounds lists them).",
                ref=purpose_ref,
            ),
            code="rule/roadshow-without-round",
            purpose_ref=purpose_ref,
        )


def event_needs_approval(purpose: str | None) -> bool:
    """An event booking always goes to the desk: a roadshow or a product launch is a large event
    (issue 3), whatever the space's approval setting (park admin may relax a hall's)."""
    return purpose is not None
