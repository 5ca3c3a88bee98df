"""What finance's state machine (tests/finance/test_stateful.py) needs for IP-pledge loans and for
counting its audit exactly (no tests here): the patents a tenant lists, consulting's answers to a
valuation request as the bus delivers them, the documented moves of a valuation request, and,
from the audit trail's lines, the events and decisions they call for.

The rules these check are docs/FINANCE.md's: "Documents, patents, valuation and pledge",
"Valuations", "Events", and the rights table (``record_pledge``: the partner whose offer was
accepted, desk staff or park admin).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any, NamedTuple

from shared.events.envelope import Event

IP_AGENCY = str(uuid.UUID("00000000-0000-4000-8000-0000000001b1"))
"""An IP appraisal firm of the directory (the only kind a valuation request may name)."""
IP_AGENCY_ROW = (IP_AGENCY, "Rongzhi IP Agency", "蓉智知识产权代理", "ip_agency")

PATENT_NUMBERS = ("ZL202010566088.9", "ZL202110000001.6", "ZL201811564288.X", "ZL01105715.7")
"""Well-formed CNIPA numbers (their check digits hold)."""
PATENTS = ("good", "good", "other-holder", "bad-check-digit", "not-a-number")
"""The patents a tenant lists: mostly one registration would take; one it would refuse (the
holder is another company: kept, and submission refuses it); two refused at once (422)."""

AFTER_ACCEPTANCE = ("accepted", "contract_signed", "disbursing", "disbursed")
"""Where a pledge is registered (docs/FINANCE.md: ``PUT /applications/{id}/pledge``)."""
VALUATION_MOVES: dict[str, frozenset[str]] = {
    "requested": frozenset({"opened", "valued", "failed", "no_answer"}),
    "opened": frozenset({"valued", "failed"}),
    "no_answer": frozenset({"opened", "valued", "failed"}),
    "valued": frozenset(),
    "failed": frozenset(),
}
"""A valuation request's documented moves ("Valuations"): consulting opens it, values it or fails
it (answers are taken once: valued and failed are final); the job marks one still ``requested``
``no_answer``, and a late answer may still open, value or fail that one."""
OPEN_REQUEST = ("requested", "opened")
VALUATION_PATHS = ("answered", "failed", "unanswered")
"""How consulting answers the valuation step of a loan's way: at once; the case cancelled, then
asked again; no case opened in time (the job gives up), then asked again."""
ANSWERS = ("opened", "completed", "failed")
VALUATION_EVENT = "finance.ip_valuation.requested"

DECISION_OF_LINE = {
    ("offer", "make"): "offer_made",
    ("application", "accept_offer"): "offer_accepted",
    ("application", "approve"): "subsidy_approved",
    ("review", "decline"): "declined",
    ("application", "record_disbursement"): "disbursement_recorded",
    ("application", "disburse"): "disbursement_approved",
}
"""The decision each kind of audit line is kept with (rules/decisions.py's ``DECISION_KINDS``)."""
ENDING_ACTIONS = ("turn_down", "withdraw")
"""Application actions that end it and withdraw its open offers with it: those offers are told by
the application's own ``closed`` or ``withdrawn`` (no ``offer_withdrawn`` each)."""


def patent(which: str, number: str, today: date) -> dict[str, Any]:
    """A patent body of kind ``which`` (:data:`PATENTS`) numbered ``number``, dated from ``today``
    (the park's day the example started): fees paid and the term long enough for any loan of the
    example, whatever time passes."""
    body: dict[str, Any] = {
        "number": number,
        "title": "A method of expanding CAR-T cells",
        "holder": "成都细胞治疗",
        "granted_on": (today - timedelta(days=700)).isoformat(),
        "expires_on": (today + timedelta(days=3650)).isoformat(),
        "fees_paid_until": (today + timedelta(days=1000)).isoformat(),
        "existing_pledges": 0,
    }
    if which == "other-holder":
        body["holder"] = "Someone Else Ltd"
    elif which == "bad-check-digit":
        body["number"] = number[:-1] + ("1" if number[-1] != "1" else "2")
    elif which == "not-a-number":
        body["number"] = "12345"
    return body


def valuation_answer(kind: str, request_id: str, application_id: str, org_id: str, case: int) -> dict[str, Any]:
    """Consulting's ``consulting.valuation.<kind>`` for finance's request, as its valuation case
    publishes it (services/consulting/handlers/valuations.py), a new envelope each time. ``case``
    numbers the request's case: every answer to one request names the same case."""
    data: dict[str, Any] = {
        "request_id": request_id,
        "application_id": application_id,
        "org_id": org_id,
        "case_id": str(uuid.UUID(int=case + 1)),
        "case_number": f"C-2026-{case + 1:05d}",
        "appraiser_org_id": IP_AGENCY,
    }
    if kind == "completed":
        data |= {
            "amount": f"{2_000_000 + 100_000 * case}.00",
            "currency": "CNY",
            "report_name": "valuation report.pdf",
            "report_attachment_id": str(uuid.UUID(int=10_000 + case)),
        }
    elif kind == "failed":
        data |= {"failure": "cancelled", "reason": "The tenant no longer needs it."}
    event = Event(
        type=f"consulting.valuation.{kind}",
        source="/parkhub/consulting",
        data=data,
        subject=f"cases/{data['case_id']}",
        orgid=org_id,
        correlationid=f"valuation:{request_id}",
    )
    return event.to_dict()


class Line(NamedTuple):
    """The columns of an audit line the checks read (``application_transitions``)."""

    application_id: str
    subject: str
    action: str
    from_status: str | None
    to_status: str
    partner_org_id: str | None
    actor: str
    details: Any


def expected_events(
    lines: Iterable[Line],
    event_of_application_line: Any,
    event_of_review_line: dict[str, str | None],
) -> Counter[tuple[str, str]]:
    """How many times the outbox must hold each (application, event type), from the audit lines in
    order: an application line its action's event (``event_of_application_line(line)``), a review
    line its step's (``offer_made`` for an offer made), a valuation request
    ``finance.ip_valuation.requested``, an offer withdrawn ``offer_withdrawn`` unless the
    application had just ended (its ``closed`` or ``withdrawn`` tells the partners). An offer's
    acceptance is told once, by the application's ``accept_offer`` line (or a bureau's
    ``approve``)."""
    events: Counter[tuple[str, str]] = Counter()
    ended: set[str] = set()
    for line in lines:
        event: str | None = None
        if line.subject == "application":
            if line.action in ENDING_ACTIONS:
                ended.add(line.application_id)
            event = VALUATION_EVENT if line.action == "request_valuation" else event_of_application_line(line)
        elif line.subject == "review":
            event = event_of_review_line.get(line.action)
        elif line.action == "withdraw" and line.application_id not in ended:
            event = "finance.application.offer_withdrawn"
        if event is not None:
            events[(line.application_id, event)] += 1
    return events


def expected_decisions(lines: Iterable[Line]) -> Counter[tuple[str, str]]:
    """How many decisions of each kind each application must keep: one per line of
    :data:`DECISION_OF_LINE`."""
    decisions: Counter[tuple[str, str]] = Counter()
    for line in lines:
        kind = DECISION_OF_LINE.get((line.subject, line.action))
        if kind is not None:
            decisions[(line.application_id, kind)] += 1
    return decisions


class DeletingApi:
    """The test client as :class:`tests.consulting.stateful_support.Caller` calls it, also for
    ``delete`` (which it sends as ``delete(path, body, user=...)``; a DELETE has no body)."""

    def __init__(self, api: Any) -> None:
        self._api = api

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    def delete(self, path: str, body: Any = None, user: str | None = None, **headers: str) -> Any:
        assert body is None
        return self._api.delete(path, user=user, **headers)
