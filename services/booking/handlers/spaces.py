"""Park admin's commands on spaces, their closures and the tenants' quotas."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.booking.commands import Actor, AddClosure, RemoveClosure, SaveSpace, SetQuota
from services.booking.handlers.common import check_version, load_space, new_id
from services.booking.models import Closure, QuotaRule, Space
from services.booking.rules import parse_opening_hours
from shared.clock import as_utc, utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound, PermissionDenied, RuleViolation

REQUIRED = (
    "code",
    "kind",
    "name",
    "name_zh",
    "building",
    "capacity",
    "opening_hours",
    "slot_minutes",
    "min_duration_minutes",
    "max_duration_minutes",
    "lead_time_minutes",
    "horizon_days",
    "hourly_price",
)
DEFAULTS: dict[str, Any] = {
    "floor": None,
    "layouts": {},
    "equipment": [],
    "description": "",
    "description_zh": "",
    "setup_minutes": 0,
    "cleanup_minutes": 0,
    "approval_mode": "never",
    "approval_threshold": None,
    "currency": "CNY",
    "free_cancel_hours": 24,
    "late_cancel_fee_percent": 50,
    "check_in_opens_minutes": 15,
    "check_in_grace_minutes": 15,
    "active": True,
}


def _park_admin(actor: Actor) -> None:
    if not actor.is_park_admin:
        raise PermissionDenied("Only park admin manages spaces, closures and quotas.")


def save_space(cmd: SaveSpace, *, uow: UnitOfWork) -> str:
    """Create a space (no ``space_id``) or change one; refuses a configuration that cannot work."""
    _park_admin(cmd.actor)
    now = utcnow()
    details = dict(cmd.details)
    if cmd.space_id is None:
        missing = [name for name in REQUIRED if name not in details]
        if missing:
            raise RuleViolation(f"A new space needs: {', '.join(missing)}.", code="rule/space-config")
        space = Space(id=new_id(), created_at=now, **{**DEFAULTS, **details})
        uow.session.add(space)
    else:
        space = load_space(uow, cmd.space_id, active=False)
        check_version(space.version, cmd.expected_versions)
        for name, value in details.items():
            setattr(space, name, value)
    space.updated_at = now
    parse_opening_hours(space.opening_hours)
    space.policy().validate()
    with uow.session.no_autoflush:
        taken = uow.session.execute(select(Space.id).where(Space.code == space.code, Space.id != space.id)).first()
    if taken is not None:
        raise Conflict(f"Another space already has the code {space.code!r}.", code="rule/space-code-taken")
    uow.session.flush()
    return space.id


def add_closure(cmd: AddClosure, *, uow: UnitOfWork) -> str:
    """Close a space for a time. Reservations already there stay; desk staff move or cancel them."""
    _park_admin(cmd.actor)
    load_space(uow, cmd.space_id, active=False)
    if as_utc(cmd.ends_at) <= as_utc(cmd.starts_at):
        raise RuleViolation("A closure ends after it starts.", code="rule/end-after-start")
    closure = Closure(
        id=new_id(),
        space_id=cmd.space_id,
        starts_at=as_utc(cmd.starts_at),
        ends_at=as_utc(cmd.ends_at),
        reason=cmd.reason,
        created_by=cmd.actor.subject,
        created_at=utcnow(),
    )
    uow.session.add(closure)
    uow.session.flush()
    return closure.id


def remove_closure(cmd: RemoveClosure, *, uow: UnitOfWork) -> None:
    _park_admin(cmd.actor)
    closure = uow.session.get(Closure, cmd.closure_id)
    if closure is None or closure.space_id != cmd.space_id:
        raise NotFound(f"Space {cmd.space_id} has no closure {cmd.closure_id}.")
    uow.session.delete(closure)


def set_quota(cmd: SetQuota, *, uow: UnitOfWork) -> None:
    """Set the free hours per month for one tenant (or ``*``, every tenant) and space kind."""
    _park_admin(cmd.actor)
    if cmd.free_hours_per_month < 0:
        raise RuleViolation("Free hours are never negative.", code="rule/quota")
    rule = uow.session.get(QuotaRule, (cmd.org_id, cmd.space_kind))
    if rule is None:
        uow.session.add(
            QuotaRule(
                org_id=cmd.org_id,
                space_kind=cmd.space_kind,
                free_hours_per_month=cmd.free_hours_per_month,
                updated_at=utcnow(),
            )
        )
    else:
        rule.free_hours_per_month = cmd.free_hours_per_month
        rule.updated_at = utcnow()
