"""What a line of an organisation's timeline says: per event type, one title in both languages.

A line reuses the notice's title (what happened: "Booking confirmed") and names the thing it
happened to from the event's data: a reservation's title and space (the space in the reader's
language: events carry both names), a case's or application's short id, an amount with its
currency. The organisation a line belongs to is the event's ``org_id``, else the envelope's.

Pure: no Flask, no database, no bus.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.notify.rules.notices import Named, notice_for, short_id
from services.notify.rules.recipients import SERVICES
from shared.i18n import Message, _

Data = Mapping[str, Any]


def concerns_timeline(event_type: str) -> bool:
    """Whether events of ``event_type`` go on a timeline: every event of booking, consulting and
    finance (its organisation permitting)."""
    return event_type.split(".", 1)[0] in SERVICES


def organisation_of(data: Data, envelope_orgid: str | None) -> str | None:
    """The organisation an event concerns: ``data.org_id``, else the envelope's ``orgid``."""
    org_id = data.get("org_id") or envelope_orgid
    return str(org_id) if org_id else None


def subject_of(data: Data) -> str | None:
    """The reservation, case or application an event is about (the first the data names)."""
    for key in ("reservation_id", "case_id", "application_id"):
        if data.get(key):
            return str(data[key])
    return None


def _space(d: Data) -> Named:
    name = str(d.get("space_name") or short_id(d.get("space_id")))
    return Named(name, zh=str(d.get("space_name_zh") or ""))


def _money(amount: Any, currency: Any) -> dict[str, str]:
    return {"amount": str(amount or ""), "currency": str(currency or "CNY")}


def _booking(event_type: str, d: Data, what: Message) -> Message:
    if event_type == "booking.reservation.booths_changed":
        return _("{what}: booth {booth}, {exhibitor}", what=what, booth=d.get("booth"), exhibitor=d.get("exhibitor"))
    if not d.get("title"):
        return what
    if d.get("space_name") or d.get("space_id"):
        return _("{what}: “{title}” in {space}", what=what, title=str(d["title"]), space=_space(d))
    return _("{what}: “{title}”", what=what, title=str(d["title"]))


def _consulting(event_type: str, d: Data, what: Message) -> Message:
    if event_type.startswith("consulting.valuation."):
        case = str(d.get("case_number") or short_id(d.get("case_id")))
        if event_type == "consulting.valuation.completed":
            return _(
                "{what}: {amount} {currency}, case {case}",
                what=what,
                case=case,
                **_money(d.get("amount"), d.get("currency")),
            )
        return _("{what}: case {case}, application {id}", what=what, case=case, id=short_id(d.get("application_id")))
    quote = d.get("quote")
    if quote:
        return _(
            "{what}: case {id}, {amount} {currency}",
            what=what,
            id=short_id(d.get("case_id")),
            **_money(quote.get("fee"), quote.get("currency")),
        )
    return _("{what}: case {id}", what=what, id=short_id(d.get("case_id")))


def _finance(event_type: str, d: Data, what: Message) -> Message:
    app_id = short_id(d.get("application_id"))
    if event_type == "finance.ip_valuation.requested":
        return _("{what}: application {id}", what=what, id=app_id)
    if event_type == "finance.application.contract_signed":
        return _("{what}: contract {number}, application {id}", what=what, number=d.get("contract_number"), id=app_id)
    if d.get("tranche"):
        tranche = d["tranche"]
        return _(
            "{what}: tranche {number}, {amount} {currency}, application {id}",
            what=what,
            number=tranche.get("number"),
            id=app_id,
            **_money(tranche.get("amount"), tranche.get("currency")),
        )
    money = d.get("offer") or d
    return _(
        "{what}: application {id}, {amount} {currency}",
        what=what,
        id=app_id,
        **_money(money.get("amount"), money.get("currency")),
    )


def headline(event_type: str, data: Data) -> Message:
    """The timeline's line for an event: the notice's title, then what it is about.

    Raises KeyError for a type of booking, consulting or finance without a notice.
    """
    what = notice_for(event_type, data).title
    service = event_type.split(".", 1)[0]
    if service == "booking":
        return _booking(event_type, data, what)
    if service == "consulting":
        return _consulting(event_type, data, what)
    return _finance(event_type, data, what)
