"""Who hears about which event: ONE table, event type → audiences, and their resolution.

An audience is a symbol (``booker``, ``org_admins``, ``assigned_firm`` ...); :func:`recipients`
resolves the audiences of an event's row into concrete :class:`Recipient` s from the event's data
alone: a user (by subject), an organisation (every member of it, ``role`` None), or the holders of
a role (``tenant_admin`` within an organisation, ``desk_staff`` park-wide). An audience whose field is
null in the event (no firm yet, a room hold's rejection without a booker) resolves to nobody.

A row may be empty: the event is a request between services (``booking.room_hold.requested``,
``finance.ip_valuation.requested``) whose outcome is what people hear about, or something the only
person concerned did themselves (a check-in).

Partner organisations (firms, banks, appraisers) also receive events by webhook; which ones is
:func:`partner_may_receive`: only events about cases and applications routed to that organisation.

Pure: no Flask, no database, no bus.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Audiences -----------------------------------------------------------------------------------

BOOKER = "booker"
SUBMITTER = "submitter"
APPLICANT = "applicant"
ORG_ADMINS = "org_admins"
DESK = "desk"
EXHIBITOR = "exhibitor"
ASSIGNED_FIRM = "assigned_firm"
PREVIOUS_FIRM = "previous_firm"
ROUTED_PARTNERS = "routed_partners"
NEWLY_ROUTED_PARTNERS = "newly_routed_partners"
PARTNER = "partner"
ACCEPTED_PARTNER = "accepted_partner"

AUDIENCES: tuple[str, ...] = (
    BOOKER,
    SUBMITTER,
    APPLICANT,
    ORG_ADMINS,
    DESK,
    EXHIBITOR,
    ASSIGNED_FIRM,
    PREVIOUS_FIRM,
    ROUTED_PARTNERS,
    NEWLY_ROUTED_PARTNERS,
    PARTNER,
    ACCEPTED_PARTNER,
)

PARTNER_AUDIENCES: frozenset[str] = frozenset(
    {ASSIGNED_FIRM, PREVIOUS_FIRM, ROUTED_PARTNERS, NEWLY_ROUTED_PARTNERS, PARTNER, ACCEPTED_PARTNER}
)
"""The audiences that are partner organisations (firms, banks): the only ones webhooks go to."""

SERVICES: tuple[str, ...] = ("booking", "consulting", "finance")
"""The services whose every event type has a row below."""

ROLE_ORG_ADMIN = "tenant_admin"
ROLE_DESK_STAFF = "desk_staff"

# The table -----------------------------------------------------------------------------------

AUDIENCES_BY_EVENT: Mapping[str, tuple[str, ...]] = {
    # booking: the booker hears about their reservation; the desk about what it must approve.
    "booking.reservation.requested": (BOOKER, DESK),
    "booking.reservation.confirmed": (BOOKER,),
    "booking.reservation.rejected": (BOOKER, ORG_ADMINS),
    "booking.reservation.cancelled": (BOOKER, DESK),
    "booking.reservation.rescheduled": (BOOKER,),
    "booking.reservation.changed": (BOOKER,),
    "booking.reservation.visitors_changed": (BOOKER,),
    "booking.reservation.booths_changed": (BOOKER, EXHIBITOR),
    "booking.reservation.checked_in": (),
    "booking.reservation.no_show": (BOOKER, ORG_ADMINS),
    "booking.reservation.completed": (),
    "booking.room_hold.requested": (),
    "booking.room_hold.released": (),
    # consulting: the tenant who submitted, the desk that triages, the firm on the case.
    "consulting.case.submitted": (DESK,),
    "consulting.case.triaged": (SUBMITTER,),
    "consulting.case.assigned": (ASSIGNED_FIRM, SUBMITTER),
    "consulting.case.accepted": (SUBMITTER, DESK),
    "consulting.case.declined": (DESK, PREVIOUS_FIRM),
    "consulting.case.quoted": (SUBMITTER, ORG_ADMINS),
    "consulting.case.quote_accepted": (ASSIGNED_FIRM,),
    "consulting.case.waiting": (SUBMITTER, ORG_ADMINS),
    "consulting.case.solution_proposed": (SUBMITTER,),
    "consulting.case.closed": (ASSIGNED_FIRM, SUBMITTER),
    "consulting.case.reopened": (ASSIGNED_FIRM,),
    "consulting.case.cancelled": (ASSIGNED_FIRM, DESK),
    "consulting.case.sla_warning": (DESK, ASSIGNED_FIRM),
    "consulting.case.sla_breached": (DESK, ASSIGNED_FIRM),
    # consulting's answers to finance's valuation request: the opening is a step between
    # services; the outcome is news for the tenant's admins and the desk that acts on it.
    "consulting.valuation.opened": (),
    "consulting.valuation.completed": (ORG_ADMINS, DESK),
    "consulting.valuation.failed": (ORG_ADMINS, DESK),
    # finance: the applicant, the desk that routes, the partner the change is about.
    "finance.application.submitted": (DESK,),
    "finance.application.routed": (NEWLY_ROUTED_PARTNERS, APPLICANT),
    "finance.application.info_requested": (APPLICANT, ORG_ADMINS),
    "finance.application.info_provided": (PARTNER,),
    "finance.application.offer_made": (APPLICANT, ORG_ADMINS),
    "finance.application.declined": (APPLICANT, DESK),
    "finance.application.offer_accepted": (ACCEPTED_PARTNER, DESK),
    "finance.application.offer_withdrawn": (PARTNER, APPLICANT),
    "finance.application.contract_signed": (APPLICANT, DESK),
    "finance.application.disbursed": (APPLICANT, ORG_ADMINS),
    "finance.application.withdrawn": (ROUTED_PARTNERS, DESK),
    "finance.application.closed": (APPLICANT,),
    "finance.ip_valuation.requested": (),
}


@dataclass(frozen=True)
class Recipient:
    """Who a notice goes to: a user (``user``), every member of an organisation (``org_id``, no
    role), or the holders of ``role`` (within ``org_id``, or park-wide when it is None).
    ``audience`` says why they hear of it."""

    audience: str
    user: str | None = None
    org_id: str | None = None
    role: str | None = None


def _user(audience: str, subject: Any) -> list[Recipient]:
    return [Recipient(audience, user=str(subject))] if subject else []


def _organisations(audience: str, org_ids: Iterable[Any]) -> list[Recipient]:
    return [Recipient(audience, org_id=str(org_id)) for org_id in org_ids if org_id]


def resolve(audience: str, data: Mapping[str, Any]) -> list[Recipient]:
    """The recipients ``audience`` names in an event's ``data`` (nobody when its field is null).

    Raises KeyError for an audience that does not exist.
    """
    if audience == BOOKER:
        return _user(audience, data.get("booked_by"))
    if audience == SUBMITTER:
        return _user(audience, data.get("submitted_by"))
    if audience == APPLICANT:
        return _user(audience, data.get("applicant"))
    if audience == ORG_ADMINS:
        org_id = data.get("org_id")
        return [Recipient(audience, org_id=str(org_id), role=ROLE_ORG_ADMIN)] if org_id else []
    if audience == DESK:
        return [Recipient(audience, role=ROLE_DESK_STAFF)]
    if audience == EXHIBITOR:
        org_id = data.get("exhibitor_org_id")
        return [Recipient(audience, org_id=str(org_id), role=ROLE_ORG_ADMIN)] if org_id else []
    if audience == ASSIGNED_FIRM:
        return _organisations(audience, [data.get("firm_org_id")])
    if audience == PREVIOUS_FIRM:
        return _organisations(audience, [data.get("previous_firm_org_id")])
    if audience == ROUTED_PARTNERS:
        return _organisations(audience, data.get("partner_org_ids") or ())
    if audience == NEWLY_ROUTED_PARTNERS:
        return _organisations(audience, data.get("added_partner_org_ids") or ())
    if audience in (PARTNER, ACCEPTED_PARTNER):
        return _organisations(audience, [data.get("partner_org_id")])
    raise KeyError(audience)


def audiences_of(event_type: str) -> tuple[str, ...]:
    """The audiences of ``event_type``'s row; () for a type of another service (identity, say).

    Raises KeyError for a type of booking, consulting or finance without a row: every one has one.
    """
    if event_type.split(".", 1)[0] not in SERVICES:
        return ()
    return AUDIENCES_BY_EVENT[event_type]


def recipients(event_type: str, data: Mapping[str, Any]) -> list[Recipient]:
    """Everyone ``event_type`` with ``data`` concerns, in the row's order, each once.

    A user named by two audiences (the booker who is also an admin is not known here) or an
    organisation reached twice hears once: the first audience wins.
    """
    found: list[Recipient] = []
    seen: set[tuple[str | None, str | None, str | None]] = set()
    for audience in audiences_of(event_type):
        for recipient in resolve(audience, data):
            key = (recipient.user, recipient.org_id, recipient.role)
            if key not in seen:
                seen.add(key)
                found.append(recipient)
    return found


def partner_organisations(event_type: str, data: Mapping[str, Any]) -> set[str]:
    """The partner organisations ``event_type`` with ``data`` is about and routed to.

    A previous firm counts only for its own decline: a firm replaced by a reassignment is not told
    which firm took the case over.
    """
    found: set[str] = set()
    for audience in audiences_of(event_type):
        if audience not in PARTNER_AUDIENCES:
            continue
        if audience == PREVIOUS_FIRM and event_type != "consulting.case.declined":
            continue
        found.update(r.org_id for r in resolve(audience, data) if r.org_id)
    return found


def partner_may_receive(event_type: str, data: Mapping[str, Any], org_id: str) -> bool:
    """Whether partner ``org_id`` may receive this event by webhook: only when the case or the
    application it is about is routed to that organisation and the row names it (an offer one
    bank made is never another bank's)."""
    return bool(org_id) and org_id in partner_organisations(event_type, data)
