"""How spaces and reservations are shown: dicts for the answer schemas, money as
``{"amount": "<decimal>", "currency": "CNY"}``. Times stay the instants stored: the schemas'
``ParkTime`` fields answer them in park time (the one timestamp rule, docs/API.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from services.booking.models import Closure, Reservation, Space, Transition
from services.booking.permissions import can_manage
from services.booking.rules import Interval, render_opening_hours
from services.booking.rules.policy import no_show_after
from shared.clock import PARK_TZ
from shared.principal import Principal


def money(amount: Decimal | None, currency: str = "CNY") -> dict[str, str] | None:
    return None if amount is None else {"amount": f"{Decimal(amount):.2f}", "currency": currency}


def interval(value: Interval) -> dict[str, Any]:
    return {"start": value.start, "end": value.end}


def space_summary(space: Space) -> dict[str, Any]:
    return {
        "id": space.id,
        "code": space.code,
        "kind": space.kind,
        "name": space.name,
        "name_zh": space.name_zh,
        "building": space.building,
        "floor": space.floor,
        "capacity": space.capacity,
    }


def space_view(space: Space) -> dict[str, Any]:
    policy = space.policy()
    return {
        **space_summary(space),
        "layouts": dict(space.layouts or {}),
        "equipment": list(space.equipment or ()),
        "description": space.description,
        "description_zh": space.description_zh,
        "opening_hours": {
            day: [{"opens": opens, "closes": closes} for opens, closes in periods]
            for day, periods in render_opening_hours(policy.opening_hours).items()
        },
        "timezone": str(PARK_TZ),
        "rules": {
            "slot_minutes": space.slot_minutes,
            "min_duration_minutes": space.min_duration_minutes,
            "max_duration_minutes": space.max_duration_minutes,
            "lead_time_minutes": space.lead_time_minutes,
            "horizon_days": space.horizon_days,
            "setup_minutes": space.setup_minutes,
            "cleanup_minutes": space.cleanup_minutes,
            "check_in_opens_minutes": space.check_in_opens_minutes,
            "check_in_grace_minutes": space.check_in_grace_minutes,
        },
        "approval": {"mode": space.approval_mode, "attendees_above": space.approval_threshold},
        "price": {"hourly": f"{Decimal(space.hourly_price):.2f}", "currency": space.currency},
        "cancellation": {
            "free_until_hours_before": space.free_cancel_hours,
            "late_fee_percent": f"{Decimal(space.late_cancel_fee_percent):.2f}",
        },
        "active": space.active,
        "closes_on_public_holidays": space.closes_on_public_holidays,
        "booths": space.booths,
        "version": space.version,
    }


def closure_view(closure: Closure) -> dict[str, Any]:
    return {
        "id": closure.id,
        "space_id": closure.space_id,
        "start": closure.starts_at,
        "end": closure.ends_at,
        "reason": closure.reason,
    }


def reservation_view(reservation: Reservation, actor: Principal, org_name: str | None = None) -> dict[str, Any]:
    """The whole reservation: only ever shown to its organisation and to staff."""
    policy = reservation.space.policy()
    usage = Interval(reservation.start_utc, reservation.end_utc)
    return {
        "id": reservation.id,
        "status": reservation.status,
        "space": space_summary(reservation.space),
        "organisation": {"id": reservation.org_id, "name": org_name},
        "booked_by": reservation.booked_by,
        "booked_by_name": reservation.booked_by_name,
        "title": reservation.title,
        "attendees": reservation.attendees,
        "layout": reservation.layout,
        "note": reservation.note,
        "start": reservation.starts_at,
        "end": reservation.ends_at,
        "hold": {"start": reservation.hold_start, "end": reservation.hold_end},
        "price": money(reservation.price, reservation.currency),
        "quota_minutes": reservation.quota_minutes,
        "billable_minutes": reservation.billable_minutes,
        "cancellation_fee": money(reservation.cancellation_fee, reservation.currency),
        "check_in": {
            "opens_at": usage.start - timedelta(minutes=policy.check_in_opens_minutes),
            "closes_at": no_show_after(policy, usage),
            "checked_in_at": reservation.checked_in_at,
        },
        "series_id": reservation.series_id,
        "occurrence": reservation.occurrence,
        "request_id": reservation.request_id,
        "purpose": reservation.purpose,
        "purpose_ref": reservation.purpose_ref,
        "reason": reservation.reason,
        "visitors": [
            {"name": v.name, "company": v.company, "car_plate": v.car_plate, "plate_kind": v.plate_kind}
            for v in reservation.visitors
        ],
        "can_manage": can_manage(actor, reservation),
        "version": reservation.version,
        "created_at": reservation.created_at,
        "updated_at": reservation.updated_at,
    }


def transition_view(transition: Transition) -> dict[str, Any]:
    return {
        "action": transition.action,
        "from_status": transition.from_status,
        "to_status": transition.to_status,
        "actor": transition.actor,
        "actor_name": transition.actor_name,
        "reason": transition.reason,
        "details": details_in_park_time(transition.details),
        "at": transition.at,
    }


MOMENTS = frozenset({"start", "end"})
"""The keys of an audit line's ``details`` that hold an instant (a reservation's or a closure's)."""


def details_in_park_time(details: Any) -> Any:
    """An audit line's ``details`` as answered: the instants (``start``, ``end``, nested too)
    in park time. They are stored as written, in UTC (``…+00:00``), old lines too, so they are
    turned when answered, like every other time of the API; anything else stays as it is."""
    if isinstance(details, dict):
        return {
            key: _in_park_time(value) if key in MOMENTS else details_in_park_time(value)
            for key, value in details.items()
        }
    if isinstance(details, list):
        return [details_in_park_time(value) for value in details]
    return details


def _in_park_time(value: Any) -> Any:
    if not isinstance(value, str):
        return details_in_park_time(value)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.astimezone(PARK_TZ).isoformat() if moment.tzinfo is not None else value
