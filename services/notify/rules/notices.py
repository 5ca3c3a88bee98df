"""What a notice says: per event type, its kind, a short title and a body, in both languages.

Texts are marked messages whose placeholders are filled from the event's data: the events carry
no case or application number, so a notice names what they carry (a reservation's title and
space, a case's category by its names, a short id, amounts as decimal strings with their
currency). A person's language is chosen when the notice is rendered
(:meth:`shared.i18n.Message.render`), not here.

The kind (``booking``, ``case``, ``quote``, ``sla``, ``application``, ``offer``, ``payout``) is
what a person's preferences are set per; :mod:`services.notify.rules.names` labels it.

:func:`dedupe_key` makes an event delivered twice one notification per recipient.

Pure: no Flask, no database, no bus.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from services.notify.rules.recipients import Recipient
from shared.i18n import Message, _

BOOKING = "booking"
CASE = "case"
QUOTE = "quote"
SLA = "sla"
APPLICATION = "application"
OFFER = "offer"
PAYOUT = "payout"
WEBHOOK = "webhook"
"""A partner's webhook endpoint was disabled (a 410, or repeated failure): handlers/webhooks.tell_owner."""
KINDS: tuple[str, ...] = (BOOKING, CASE, QUOTE, SLA, APPLICATION, OFFER, PAYOUT, WEBHOOK)


@dataclass(frozen=True)
class Notice:
    """One notice: its ``kind`` (for preferences), a short ``title`` and a ``body``."""

    kind: str
    title: Message
    body: Message


Data = Mapping[str, Any]


def short_id(value: Any) -> str:
    """The first eight characters of an id, as the park's screens show it ("3f2a9c1e")."""
    return str(value or "")[:8]


@dataclass(frozen=True)
class Named(Message):
    """A name the event carries in both languages (a space's ``space_name``/``space_name_zh``):
    rendered as the reader's language names it, the English name when there is no Chinese one."""

    zh: str = ""

    def render(self, locale: str) -> str:
        return self.zh if locale == "zh" and self.zh else self.msgid


def _space(d: Data) -> Named:
    return Named(str(d.get("space_name") or d.get("space_id") or ""), zh=str(d.get("space_name_zh") or ""))


def _booking(d: Data) -> dict[str, Any]:
    return {"title": str(d.get("title") or ""), "space": _space(d), "id": short_id(d.get("reservation_id"))}


def _category(d: Data) -> Named:
    """A case's category as consulting names it (``category_name``/``category_name_zh``); its code
    only when the event carries no name (events published before the names were added)."""
    return Named(str(d.get("category_name") or d.get("category") or ""), zh=str(d.get("category_name_zh") or ""))


SLA_DEADLINES: Mapping[tuple[str, str], Message] = {
    ("tenant", "first_response"): _("the park's first response"),
    ("tenant", "resolution"): _("the park's resolution"),
    ("firm", "first_response"): _("the firm's first response"),
    ("firm", "resolution"): _("the firm's resolution"),
}
"""Which deadline an SLA event is about (its clock and target): a case has four, and a notice or a
timeline line that says only "a deadline" reads the same for each."""


def _deadline(d: Data) -> Message:
    return SLA_DEADLINES.get((str(d.get("clock")), str(d.get("target"))), _("a deadline"))


def _case(d: Data) -> dict[str, Any]:
    return {"id": short_id(d.get("case_id")), "category": _category(d)}


def _application(d: Data) -> dict[str, str]:
    return {"id": short_id(d.get("application_id")), "amount": str(d.get("amount") or ""), "currency": "CNY"}


def _offer(d: Data) -> dict[str, str]:
    offer = d.get("offer") or {}
    return {
        **_application(d),
        "amount": str(offer.get("amount") or d.get("amount") or ""),
        "currency": str(offer.get("currency") or d.get("currency") or "CNY"),
    }


def _quote(d: Data) -> dict[str, Any]:
    quote = d.get("quote") or {}
    return {**_case(d), "fee": str(quote.get("fee") or ""), "currency": str(quote.get("currency") or "CNY")}


def _tranche(d: Data) -> dict[str, str]:
    tranche = d.get("tranche") or {}
    return {
        **_application(d),
        "number": str(tranche.get("number") or ""),
        "amount": str(tranche.get("amount") or ""),
        "currency": str(tranche.get("currency") or "CNY"),
    }


def _valuation(d: Data) -> dict[str, str]:
    return {"id": short_id(d.get("application_id")), "case": str(d.get("case_number") or short_id(d.get("case_id")))}


def _valuation_failure(d: Data) -> Message | str:
    failure = d.get("failure")
    if failure == "cancelled":
        return _("the case was cancelled")
    if failure == "declined_by_all":
        return _("every appraisal firm declined")
    return str(d.get("reason") or failure or "-")


def _reason(d: Data) -> str:
    return str(d.get("reason") or d.get("rule") or "-")


Builder = Callable[[Data], Notice]

NOTICES: Mapping[str, Builder] = {
    "booking.reservation.requested": lambda d: Notice(
        BOOKING,
        _("Booking awaits approval"),
        _("The booking “{title}” of {space} ({id}) waits for the desk's approval.", **_booking(d)),
    ),
    "booking.reservation.confirmed": lambda d: Notice(
        BOOKING,
        _("Booking confirmed"),
        _("The booking “{title}” of {space} ({id}) is confirmed.", **_booking(d)),
    ),
    "booking.reservation.rejected": lambda d: Notice(
        BOOKING,
        _("Booking rejected"),
        _("The booking “{title}” of {space} ({id}) was rejected: {reason}", **_booking(d), reason=_reason(d)),
    ),
    "booking.reservation.cancelled": lambda d: Notice(
        BOOKING,
        _("Booking cancelled"),
        _(
            "The booking “{title}” of {space} ({id}) was cancelled; cancellation fee: {fee} CNY.",
            **_booking(d),
            fee=str(d.get("cancellation_fee") or "0.00"),
        ),
    ),
    "booking.reservation.rescheduled": lambda d: Notice(
        BOOKING,
        _("Booking moved"),
        _("The booking “{title}” ({id}) moved; it is now in {space}.", **_booking(d)),
    ),
    "booking.reservation.changed": lambda d: Notice(
        BOOKING,
        _("Booking changed"),
        _("The details of the booking “{title}” of {space} ({id}) changed.", **_booking(d)),
    ),
    "booking.reservation.visitors_changed": lambda d: Notice(
        BOOKING,
        _("Visitors changed"),
        _(
            "The booking “{title}” of {space} ({id}) now has {count} visitors.",
            **_booking(d),
            count=len(d.get("visitors") or ()),
        ),
    ),
    "booking.reservation.booths_changed": lambda d: Notice(
        BOOKING,
        _("Booth changed"),
        _(
            "Booth {booth} of the hall booking {id} is now {change}: {exhibitor}.",
            id=short_id(d.get("reservation_id")),
            booth=d.get("booth"),
            change=_("let") if d.get("change") == "let" else _("released"),
            exhibitor=str(d.get("exhibitor") or ""),
        ),
    ),
    "booking.reservation.checked_in": lambda d: Notice(
        BOOKING, _("Checked in"), _("The booking “{title}” of {space} ({id}) is checked in.", **_booking(d))
    ),
    "booking.reservation.no_show": lambda d: Notice(
        BOOKING,
        _("Booking missed"),
        _("Nobody checked in to the booking “{title}” of {space} ({id}); the space was released.", **_booking(d)),
    ),
    "booking.reservation.completed": lambda d: Notice(
        BOOKING, _("Booking completed"), _("The booking “{title}” of {space} ({id}) has ended.", **_booking(d))
    ),
    "booking.room_hold.requested": lambda d: Notice(
        BOOKING,
        _("Room requested"),
        _("A room was requested for “{title}”.", title=str(d.get("title") or "")),
    ),
    "booking.room_hold.released": lambda d: Notice(
        BOOKING,
        _("Room released"),
        _("The room held for request {request} is no longer needed.", request=str(d.get("request_id") or "")),
    ),
    "consulting.case.submitted": lambda d: Notice(
        CASE, _("New case"), _("Case {id} ({category}) was submitted and waits for triage.", **_case(d))
    ),
    "consulting.case.triaged": lambda d: Notice(
        CASE, _("Case reviewed"), _("Case {id} was reviewed by the park and waits for a firm.", **_case(d))
    ),
    "consulting.case.assigned": lambda d: Notice(
        CASE, _("Case assigned"), _("Case {id} ({category}) was assigned to a firm.", **_case(d))
    ),
    "consulting.case.accepted": lambda d: Notice(
        CASE, _("Case accepted"), _("The firm accepted case {id}.", **_case(d))
    ),
    "consulting.case.declined": lambda d: Notice(
        CASE,
        _("Case declined"),
        _("The firm declined case {id}: {reason}", **_case(d), reason=_reason(d)),
    ),
    "consulting.case.quoted": lambda d: Notice(
        QUOTE, _("Quote received"), _("A fee of {fee} {currency} was proposed for case {id}.", **_quote(d))
    ),
    "consulting.case.quote_accepted": lambda d: Notice(
        QUOTE, _("Quote accepted"), _("The fee of {fee} {currency} for case {id} was accepted.", **_quote(d))
    ),
    "consulting.case.waiting": lambda d: Notice(
        CASE, _("Case waits for you"), _("Case {id} waits for your answer: {reason}", **_case(d), reason=_reason(d))
    ),
    "consulting.case.solution_proposed": lambda d: Notice(
        CASE,
        _("Solution proposed"),
        _("A solution was proposed for case {id}; please accept or reject it.", **_case(d)),
    ),
    "consulting.case.closed": lambda d: Notice(CASE, _("Case closed"), _("Case {id} is closed.", **_case(d))),
    "consulting.case.reopened": lambda d: Notice(
        CASE,
        _("Case reopened"),
        _("The solution for case {id} was rejected: {reason}", **_case(d), reason=_reason(d)),
    ),
    "consulting.case.cancelled": lambda d: Notice(CASE, _("Case cancelled"), _("Case {id} was cancelled.", **_case(d))),
    "consulting.case.sla_warning": lambda d: Notice(
        SLA,
        _("Deadline near: {deadline}", deadline=_deadline(d)),
        _("Case {id}: {deadline} is due soon.", deadline=_deadline(d), **_case(d)),
    ),
    "consulting.case.sla_breached": lambda d: Notice(
        SLA,
        _("Deadline missed: {deadline}", deadline=_deadline(d)),
        _("Case {id}: {deadline} is overdue.", deadline=_deadline(d), **_case(d)),
    ),
    "consulting.valuation.opened": lambda d: Notice(
        APPLICATION,
        _("Valuation case opened"),
        _("Case {case} was opened to value the patents of application {id}.", **_valuation(d)),
    ),
    "consulting.valuation.completed": lambda d: Notice(
        APPLICATION,
        _("Valuation completed"),
        _(
            "The patents of application {id} were valued at {amount} {currency} (case {case}).",
            **_valuation(d),
            amount=str(d.get("amount") or ""),
            currency=str(d.get("currency") or "CNY"),
        ),
    ),
    "consulting.valuation.failed": lambda d: Notice(
        APPLICATION,
        _("Valuation failed"),
        _(
            "The valuation for application {id} ended without a value: {failure} (case {case}).",
            **_valuation(d),
            failure=_valuation_failure(d),
        ),
    ),
    "finance.application.submitted": lambda d: Notice(
        APPLICATION,
        _("New application"),
        _("Application {id} for {amount} {currency} was submitted.", **_application(d)),
    ),
    "finance.application.routed": lambda d: Notice(
        APPLICATION,
        _("Application routed"),
        _("Application {id} for {amount} {currency} was sent to partners for review.", **_application(d)),
    ),
    "finance.application.info_requested": lambda d: Notice(
        APPLICATION,
        _("Information requested"),
        _("A partner asks for information on application {id}: {reason}", **_application(d), reason=_reason(d)),
    ),
    "finance.application.info_provided": lambda d: Notice(
        APPLICATION,
        _("Information provided"),
        _("The tenant answered your request on application {id}.", **_application(d)),
    ),
    "finance.application.offer_made": lambda d: Notice(
        OFFER, _("Offer received"), _("An offer of {amount} {currency} was made on application {id}.", **_offer(d))
    ),
    "finance.application.declined": lambda d: Notice(
        APPLICATION,
        _("Application declined"),
        _("A partner declined application {id}: {reason}", **_application(d), reason=_reason(d)),
    ),
    "finance.application.offer_accepted": lambda d: Notice(
        OFFER,
        _("Offer accepted"),
        _("The offer of {amount} {currency} on application {id} was accepted.", **_offer(d)),
    ),
    "finance.application.offer_withdrawn": lambda d: Notice(
        OFFER,
        _("Offer withdrawn"),
        _("The offer of {amount} {currency} on application {id} was withdrawn.", **_offer(d)),
    ),
    "finance.application.contract_signed": lambda d: Notice(
        APPLICATION,
        _("Contract signed"),
        _(
            "The contract {number} for application {id} was signed.",
            **_application(d),
            number=str(d.get("contract_number") or ""),
        ),
    ),
    "finance.application.disbursed": lambda d: Notice(
        PAYOUT,
        _("Payout made"),
        _("Tranche {number} of {amount} {currency} was paid out for application {id}.", **_tranche(d)),
    ),
    "finance.application.withdrawn": lambda d: Notice(
        APPLICATION, _("Application withdrawn"), _("Application {id} was withdrawn.", **_application(d))
    ),
    "finance.application.closed": lambda d: Notice(
        APPLICATION, _("Application closed"), _("Application {id} is closed.", **_application(d))
    ),
    "finance.ip_valuation.requested": lambda d: Notice(
        APPLICATION,
        _("Valuation requested"),
        _("A valuation of patents was requested for application {id}.", id=short_id(d.get("application_id"))),
    ),
}


def notice_for(event_type: str, data: Data) -> Notice:
    """The notice of ``event_type`` filled from ``data``; KeyError for a type without one."""
    return NOTICES[event_type](data)


def dedupe_key(event_id: str, recipient: Recipient) -> str:
    """The key a notification is unique by: the event and who it is for, so an event delivered
    twice (at-least-once bus) makes one notification per recipient."""
    who = recipient.user or f"{recipient.org_id or '*'}/{recipient.role or '*'}"
    kind = "user" if recipient.user else "group"
    return f"{event_id}:{kind}:{who}"
