"""Valid event data for every contract type of booking, consulting and finance.

``sample(type, **overrides)`` is the data a service would publish for ``type`` (it passes
``shared.events.contracts.validate``), about the rig's people: ``alice`` of ORG_A books, submits
and applies; the law firm LAW holds consulting cases; BANK makes offers. ``overrides`` replace
top-level fields (``sample("booking.reservation.confirmed", title="Board meeting")``).
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

ORG_A = str(uuid.UUID("00000000-0000-4000-8000-00000000000a"))
ORG_B = str(uuid.UUID("00000000-0000-4000-8000-00000000000b"))
BANK = str(uuid.UUID("00000000-0000-4000-8000-0000000000ba"))
BANK2 = str(uuid.UUID("00000000-0000-4000-8000-0000000002b2"))
LAW = str(uuid.UUID("00000000-0000-4000-8000-0000000001a1"))

ALICE = "user:alice"
DESK = "user:desk"
LAWYER = "user:lawyer"
BANKER = "user:bank"

RESERVATION_ID = "11111111-1111-4111-8111-111111111111"
SPACE_ID = "22222222-2222-4222-8222-222222222222"
CASE_ID = "33333333-3333-4333-8333-333333333333"
ITEM_ID = "44444444-4444-4444-8444-444444444444"
QUOTE_ID = "55555555-5555-4555-8555-555555555555"
APPLICATION_ID = "66666666-6666-4666-8666-666666666666"
PRODUCT_ID = "77777777-7777-4777-8777-777777777777"
OFFER_ID = "88888888-8888-4888-8888-888888888888"
DISBURSEMENT_ID = "99999999-9999-4999-8999-999999999999"
REQUEST_ID = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
ATTACHMENT_ID = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"

_RESERVATION: dict[str, Any] = {
    "reservation_id": RESERVATION_ID,
    "status": "confirmed",
    "space_id": SPACE_ID,
    "space_name": "Room A-101",
    "space_name_zh": "A-101会议室",
    "space_kind": "conference_room",
    "building": "A",
    "org_id": ORG_A,
    "org_name": "Chengdu Cell Therapeutics",
    "booked_by": ALICE,
    "booked_by_name": "Alice Wang",
    "title": "Board meeting",
    "attendees": 8,
    "layout": None,
    "starts_at": "2026-12-03T02:00:00Z",
    "ends_at": "2026-12-03T04:00:00Z",
    "price": "400.00",
    "currency": "CNY",
    "cancellation_fee": None,
    "series_id": None,
    "visitors": [],
    "reason": None,
    "request_id": None,
    "purpose": None,
    "purpose_ref": None,
    "previous_starts_at": None,
    "previous_ends_at": None,
    "previous_space_id": None,
    "version": 1,
}

_RESERVATION_STATUS = {
    "requested": "pending_approval",
    "confirmed": "confirmed",
    "cancelled": "cancelled",
    "rescheduled": "confirmed",
    "checked_in": "checked_in",
    "no_show": "no_show",
    "completed": "completed",
    "visitors_changed": "confirmed",
    "changed": "confirmed",
    "rejected": "rejected",
}

_CASE: dict[str, Any] = {
    "case_id": CASE_ID,
    "status": "submitted",
    "previous_status": None,
    "org_id": ORG_A,
    "submitted_by": ALICE,
    "category": "legal",
    "category_name": "Legal affairs",
    "category_name_zh": "法律服务",
    "item_id": ITEM_ID,
    "firm_org_id": None,
    "previous_firm_org_id": None,
    "priority": "normal",
    "submitted_at": "2026-11-30T01:00:00Z",
    "changed_at": "2026-11-30T01:00:00Z",
    "reason": None,
    "version": 1,
}

# verb -> (status, previous_status, firm assigned)
_CASE_STATE = {
    "submitted": ("submitted", None, None),
    "triaged": ("triaged", "submitted", None),
    "assigned": ("assigned", "triaged", LAW),
    "accepted": ("accepted", "assigned", LAW),
    "declined": ("triaged", "assigned", None),
    "quoted": ("accepted", "accepted", LAW),
    "quote_accepted": ("in_progress", "accepted", LAW),
    "waiting": ("waiting_on_tenant", "in_progress", LAW),
    "solution_proposed": ("solution_proposed", "in_progress", LAW),
    "closed": ("closed", "solution_proposed", LAW),
    "reopened": ("in_progress", "solution_proposed", LAW),
    "cancelled": ("cancelled", "submitted", None),
    "sla_warning": ("in_progress", None, LAW),
    "sla_breached": ("in_progress", None, LAW),
}

_APPLICATION: dict[str, Any] = {
    "application_id": APPLICATION_ID,
    "status": "submitted",
    "previous_status": "draft",
    "org_id": ORG_A,
    "applicant": ALICE,
    "product_id": PRODUCT_ID,
    "product_kind": "guaranteed_loan",
    "amount": "500000.00",
    "currency": "CNY",
    "term_months": 12,
    "partner_org_ids": [],
    "partner_org_id": None,
    "submitted_at": "2026-11-30T01:00:00Z",
    "changed_at": "2026-11-30T01:00:00Z",
    "reason": None,
    "version": 1,
}

_OFFER: dict[str, Any] = {
    "offer_id": OFFER_ID,
    "kind": "offer",
    "status": "made",
    "partner_org_id": BANK,
    "amount": "500000.00",
    "currency": "CNY",
    "annual_rate": "3.9500",
    "all_in_rate": "4.72",
    "term_months": 12,
    "fees": [{"kind": "service", "amount": "1000.00", "currency": "CNY"}],
    "conditions": None,
    "expires_at": "2026-12-30T00:00:00Z",
    "made_by": BANKER,
    "made_at": "2026-11-30T02:00:00Z",
}

# verb -> (status, previous_status, extra fields)
_APPLICATION_STATE: dict[str, tuple[str, str | None, dict[str, Any]]] = {
    "submitted": ("submitted", "draft", {}),
    "routed": ("routed", "pre_review", {"partner_org_ids": [BANK, BANK2], "added_partner_org_ids": [BANK, BANK2]}),
    "info_requested": (
        "routed",
        "routed",
        {
            "partner_org_ids": [BANK],
            "partner_org_id": BANK,
            "reason": "Last year's audited accounts",
            "document_types": ["financial_statements"],
        },
    ),
    "info_provided": (
        "routed",
        "routed",
        {"partner_org_ids": [BANK], "partner_org_id": BANK, "document_types": ["financial_statements"]},
    ),
    "offer_made": ("routed", "routed", {"partner_org_ids": [BANK], "partner_org_id": BANK, "offer": _OFFER}),
    "declined": (
        "routed",
        "routed",
        {"partner_org_ids": [BANK], "partner_org_id": BANK, "reason_code": "insufficient_revenue"},
    ),
    "offer_accepted": (
        "accepted",
        "routed",
        {"partner_org_ids": [BANK], "partner_org_id": BANK, "offer": {**_OFFER, "status": "accepted"}},
    ),
    "offer_withdrawn": (
        "routed",
        "routed",
        {"partner_org_ids": [BANK], "partner_org_id": BANK, "offer": {**_OFFER, "status": "withdrawn"}},
    ),
    "contract_signed": (
        "contract_signed",
        "accepted",
        {
            "partner_org_ids": [BANK],
            "partner_org_id": BANK,
            "contract_number": "BOC-2026-0042",
            "signed_on": "2026-12-01",
        },
    ),
    "disbursed": (
        "disbursing",
        "contract_signed",
        {
            "partner_org_ids": [BANK],
            "partner_org_id": BANK,
            "tranche": {
                "disbursement_id": DISBURSEMENT_ID,
                "number": 1,
                "amount": "200000.00",
                "currency": "CNY",
                "disbursed_total": "200000.00",
                "final": False,
                "recorded_by": BANKER,
                "approved_by": "user:bank-checker",
                "disbursed_on": "2026-12-02",
            },
        },
    ),
    "withdrawn": ("withdrawn", "routed", {"partner_org_ids": [BANK]}),
    "closed": ("closed", "disbursed", {"partner_org_ids": [BANK]}),
}

_VALUATION: dict[str, Any] = {
    "request_id": REQUEST_ID,
    "application_id": APPLICATION_ID,
    "org_id": ORG_A,
    "case_id": CASE_ID,
    "case_number": "C-2026-0042",
    "appraiser_org_id": LAW,
}


def _booking(verb: str) -> dict[str, Any]:
    data = dict(_RESERVATION, status=_RESERVATION_STATUS[verb])
    if verb == "cancelled":
        data.update(cancellation_fee="0.00", reason="Plans changed")
    elif verb == "rescheduled":
        data.update(
            previous_starts_at="2026-12-02T02:00:00Z", previous_ends_at="2026-12-02T04:00:00Z", previous_space_id=None
        )
    elif verb == "visitors_changed":
        data["visitors"] = [
            {"name": "Li Wei", "company": "Sichuan Pharma", "car_plate": "川A12345", "plate_kind": "mainland"}
        ]
    elif verb == "changed":
        data.update(changes=["title"], previous_status=None)
    elif verb == "rejected":
        data.update(reason="The room is closed for maintenance", rule=None, alternatives=[])
    return data


def _booths() -> dict[str, Any]:
    return {
        "reservation_id": RESERVATION_ID,
        "status": "confirmed",
        "space_id": SPACE_ID,
        "org_id": ORG_A,
        "starts_at": "2026-12-03T02:00:00Z",
        "ends_at": "2026-12-03T10:00:00Z",
        "change": "let",
        "booth": 3,
        "exhibitor": "Tianfu Genomics",
        "exhibitor_org_id": ORG_B,
        "booths": 20,
        "booths_let": 1,
    }


def _case(verb: str) -> dict[str, Any]:
    status, previous, firm = _CASE_STATE[verb]
    data = dict(_CASE, status=status, previous_status=previous, firm_org_id=firm)
    if verb == "declined":
        data.update(previous_firm_org_id=LAW, reason="Conflict of interest")
    elif verb in ("waiting", "reopened", "cancelled"):
        data["reason"] = "Please send the contract draft" if verb == "waiting" else "Not what we need"
    elif verb in ("quoted", "quote_accepted"):
        data["quote"] = {
            "quote_id": QUOTE_ID,
            "status": "proposed" if verb == "quoted" else "accepted",
            "fee": "8000.00",
            "currency": "CNY",
            "proposed_by": LAWYER,
            "proposed_at": "2026-11-30T02:00:00Z",
        }
    elif verb == "closed":
        data["automatic"] = False
    elif verb in ("sla_warning", "sla_breached"):
        data.update(
            clock="firm",
            target="first_response",
            target_minutes=240,
            used_minutes=200 if verb == "sla_warning" else 250,
            due_at="2026-11-30T05:00:00Z",
        )
    return data


def _application(verb: str) -> dict[str, Any]:
    status, previous, extra = _APPLICATION_STATE[verb]
    data = dict(_APPLICATION, status=status, previous_status=previous)
    data.update(copy.deepcopy(extra))
    return data


def _data(type: str) -> dict[str, Any]:
    service, kind, verb = type.split(".", 2)
    if type == "booking.reservation.booths_changed":
        return _booths()
    if service == "booking" and kind == "reservation":
        return _booking(verb)
    if type == "booking.room_hold.requested":
        return {
            "request_id": "meeting-0001",
            "requester": "consulting",
            "org_id": ORG_A,
            "requested_by": ALICE,
            "requested_by_name": "Alice Wang",
            "title": "Meeting with Tianfu Bridge Law Firm",
            "starts_at": "2026-12-03T02:00:00Z",
            "ends_at": "2026-12-03T03:00:00Z",
            "attendees": 4,
            "space_id": None,
            "space_kind": "conference_room",
            "layout": None,
            "equipment": [],
            "visitors": [],
        }
    if type == "booking.room_hold.released":
        return {"request_id": "meeting-0001", "requester": "consulting", "reason": "The meeting was cancelled"}
    if service == "consulting" and kind == "case":
        return _case(verb)
    if type == "consulting.valuation.opened":
        return dict(_VALUATION)
    if type == "consulting.valuation.completed":
        return dict(
            _VALUATION,
            amount="1200000.00",
            currency="CNY",
            report_name="valuation-report.pdf",
            report_attachment_id=ATTACHMENT_ID,
        )
    if type == "consulting.valuation.failed":
        return dict(_VALUATION, failure="declined_by_all", reason=None)
    if service == "finance" and kind == "application":
        return _application(verb)
    if type == "finance.ip_valuation.requested":
        return {
            "application_id": APPLICATION_ID,
            "request_id": REQUEST_ID,
            "application_number": "F-2026-0042",
            "org_id": ORG_A,
            "patent_numbers": ["ZL202310123456.7"],
            "appraiser_org_id": None,
            "requested_by": DESK,
            "requested_at": "2026-11-30T01:00:00Z",
        }
    raise KeyError(f"no sample for {type}")


def sample(type: str, **overrides: Any) -> dict[str, Any]:
    """Valid data of ``type`` (its newest contract), with ``overrides`` replacing top-level fields."""
    data = copy.deepcopy(_data(type))
    data.update(overrides)
    return data


def sample_types() -> list[str]:
    """Every contract type of booking, consulting and finance (the types :func:`sample` knows)."""
    from shared.events.contracts import all_contracts

    return sorted({c.type for c in all_contracts() if c.type.split(".", 1)[0] in ("booking", "consulting", "finance")})
