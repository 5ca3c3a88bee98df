"""How much of its free hours an organisation has used in a month, per space kind, in whole
minutes (what pricing takes: a reservation's ``quota_minutes``)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.booking.models import QuotaRule, Reservation, Space
from services.booking.permissions import RIGHTS
from services.booking.rules import COUNTED_FOR_QUOTA, month_of
from shared.clock import PARK_TZ
from shared.principal import Principal


def list_quotas(session: Session) -> list[dict[str, Any]]:
    rules = session.execute(select(QuotaRule).order_by(QuotaRule.org_id, QuotaRule.space_kind)).scalars()
    return [
        {
            "org_id": r.org_id,
            "space_kind": r.space_kind,
            "free_hours_per_month": r.free_hours_per_month,
            "version": r.version,
        }
        for r in rules
    ]


def usage_of(session: Session, actor: Principal, org_id: str | None, month: str | None) -> dict[str, Any]:
    """An organisation's quota use in ``month`` (YYYY-MM, park time; default this month), named
    in the answer. The ``read_quota_usage`` right: its members and staff (PermissionDenied)."""
    org_id = org_id or actor.org_id
    RIGHTS.require(actor, "read_quota_usage", org_id)
    month = month or datetime.now(PARK_TZ).strftime("%Y-%m")
    first = datetime.combine(datetime.strptime(month + "-01", "%Y-%m-%d").date(), time(0), PARK_TZ)
    return {"organisation_id": org_id, "month": month, "items": usage(session, org_id, first)}


def usage(session: Session, org_id: str, moment: datetime) -> list[dict[str, Any]]:
    month = month_of(moment)
    rules: dict[str, int] = {}
    for rule in session.execute(select(QuotaRule).where(QuotaRule.org_id.in_(("*", org_id)))).scalars():
        if rule.org_id == org_id or rule.space_kind not in rules:
            rules[rule.space_kind] = rule.free_hours_per_month
    used = dict(
        session.execute(
            select(Space.kind, func.coalesce(func.sum(Reservation.quota_minutes), 0))
            .join(Space, Space.id == Reservation.space_id)
            .where(
                Reservation.org_id == org_id,
                Reservation.status.in_(COUNTED_FOR_QUOTA),
                Reservation.starts_at >= month.start,
                Reservation.starts_at < month.end,
            )
            .group_by(Space.kind)
        ).all()
    )
    return [
        {
            "space_kind": kind,
            "free_hours_per_month": hours,
            "free_minutes": hours * 60,
            "used_minutes": int(used.get(kind, 0)),
            "left_minutes": max(0, hours * 60 - int(used.get(kind, 0))),
        }
        for kind, hours in sorted(rules.items())
    ]
