"""How much of its free hours an organisation has used in a month, per space kind."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.booking.handlers.common import month_of
from services.booking.models import QuotaRule, Reservation, Space
from services.booking.rules import COUNTED_FOR_QUOTA


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
            "used_hours": round(int(used.get(kind, 0)) / 60, 2),
            "left_hours": round(max(0, hours * 60 - int(used.get(kind, 0))) / 60, 2),
        }
        for kind, hours in sorted(rules.items())
    ]
