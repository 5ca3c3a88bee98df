"""Park admin's commands on spaces, their closures and the tenants' quotas. That the caller is park
admin is the views' guard (the ``manage_spaces`` and ``set_quota`` rows of booking's table of
rights), checked once per request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from services.booking.commands import AddClosure, RemoveClosure, SaveSpace, SetQuota
from services.booking.handlers.common import check_free, flush, known_organisation, load_space, new_id
from services.booking.models import AdminChange, Closure, QuotaRule, Reservation, Space
from services.booking.queries.views import closure_view, space_view
from services.booking.rules import HOLDING, Interval, parse_opening_hours
from shared.clock import as_utc, utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict, NotFound, RuleViolation, check_version
from shared.i18n import _
from shared.principal import Principal

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
    "closes_on_public_holidays": False,
    "booths": None,
}


def _audit(
    uow: UnitOfWork, actor: Principal, *, entity: str, entity_id: str, action: str, details: dict[str, Any]
) -> None:
    """Append one line to the audit trail of park admin's changes."""
    uow.session.add(
        AdminChange(
            entity=entity,
            entity_id=entity_id,
            action=action,
            actor=actor.subject,
            actor_name=actor.name or None,
            details=details,
            at=utcnow(),
        )
    )


def _json(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)


def save_space(cmd: SaveSpace, *, uow: UnitOfWork) -> dict[str, Any]:
    """Create a space (no ``space_id``) or change one; returns it as answered, built from what
    was written (flushed: the version is the new one). Refuses a configuration that cannot work.
    Changed buffers apply to the reservations that have not started (``rule/buffers-overlap``,
    409, when two would then overlap). Appends to the audit trail of admin changes."""
    now = utcnow()
    details = dict(cmd.details)
    if cmd.space_id is None:
        missing = [name for name in REQUIRED if name not in details]
        if missing:
            raise RuleViolation(_("A new space needs: {fields}.", fields=", ".join(missing)), code="rule/space-config")
        space = Space(id=new_id(), created_at=now, **{**DEFAULTS, **details})
        uow.session.add(space)
        action, changes = "create", {name: _json(value) for name, value in details.items()}
    else:
        space = load_space(uow, cmd.space_id, active=False)
        check_version(space.version, cmd.expected_versions)
        changes = {
            name: {"from": _json(getattr(space, name)), "to": _json(value)}
            for name, value in details.items()
            if getattr(space, name) != value
        }
        for name, value in details.items():
            setattr(space, name, value)
        action = "update"
    space.updated_at = now
    parse_opening_hours(space.opening_hours)
    space.policy().validate()
    with uow.session.no_autoflush:
        taken = uow.session.execute(select(Space.id).where(Space.code == space.code, Space.id != space.id)).first()
    if taken is not None:
        raise Conflict(_("Another space already has the code {code}.", code=space.code), code="rule/space-code-taken")
    uow.session.flush()
    if action == "update" and {"setup_minutes", "cleanup_minutes"} & set(changes):
        changes["reservations_rehold"] = _rehold(uow, space, now)
    _audit(uow, cmd.actor, entity="space", entity_id=space.id, action=action, details=changes)
    return space_view(space)


def _rehold(uow: UnitOfWork, space: Space, now: datetime) -> int:
    """Give the space's reservations that have not started their holds under the new buffers;
    returns how many. Raises ``rule/buffers-overlap`` (409) when two holds would then meet."""
    upcoming = list(
        uow.session.execute(
            select(Reservation)
            .where(Reservation.space_id == space.id, Reservation.status.in_(HOLDING), Reservation.starts_at > now)
            .order_by(Reservation.starts_at)
        ).scalars()
    )
    policy = space.policy()
    for reservation in upcoming:
        hold = policy.hold_of(Interval(reservation.start_utc, reservation.end_utc))
        reservation.hold_start, reservation.hold_end = hold.start, hold.end
    try:
        flush(uow)
        for reservation in upcoming:
            hold = Interval(as_utc(reservation.hold_start), as_utc(reservation.hold_end))
            check_free(uow, space.id, hold, exclude=[reservation.id])
    except Conflict as clash:
        raise Conflict(
            _("With these buffers two reservations of this space would overlap; move or cancel one first."),
            code="rule/buffers-overlap",
            **clash.extra,
        ) from None
    return len(upcoming)


def add_closure(cmd: AddClosure, *, uow: UnitOfWork) -> dict[str, Any]:
    """Close a space for a time; returns the closure as answered. Reservations already there
    stay; desk staff move or cancel them."""
    load_space(uow, cmd.space_id, active=False)
    if as_utc(cmd.ends_at) <= as_utc(cmd.starts_at):
        raise RuleViolation(_("A closure ends after it starts."), code="rule/end-after-start")
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
    _audit(
        uow,
        cmd.actor,
        entity="space",
        entity_id=cmd.space_id,
        action="add_closure",
        details={"closure_id": closure.id, "start": closure.starts_at.isoformat(), "end": closure.ends_at.isoformat()},
    )
    return closure_view(closure)


def remove_closure(cmd: RemoveClosure, *, uow: UnitOfWork) -> None:
    closure = uow.session.get(Closure, cmd.closure_id)
    if closure is None or closure.space_id != cmd.space_id:
        raise NotFound(_("Space {space} has no closure {closure}.", space=cmd.space_id, closure=cmd.closure_id))
    uow.session.delete(closure)
    _audit(
        uow,
        cmd.actor,
        entity="space",
        entity_id=cmd.space_id,
        action="remove_closure",
        details={
            "closure_id": closure.id,
            "start": closure.starts_at.isoformat(),
            "end": closure.ends_at.isoformat(),
            "reason": closure.reason,
        },
    )


def set_quota(cmd: SetQuota, *, uow: UnitOfWork) -> int:
    """Set the free hours per month for one tenant (or ``*``, every tenant) and space kind;
    returns the rule's new version. Raises ``rule/unknown-organisation`` for an organisation
    booking's directory does not know, PreconditionFailed when ``If-Match`` is stale (a rule that
    does not exist yet is version 0)."""
    if cmd.free_hours_per_month < 0:
        raise RuleViolation(_("Free hours are never negative."), code="rule/quota")
    if cmd.org_id != "*":
        known_organisation(uow, cmd.org_id)
    rule = uow.session.get(QuotaRule, (cmd.org_id, cmd.space_kind))
    check_version(rule.version if rule is not None else 0, cmd.expected_versions)
    before = rule.free_hours_per_month if rule is not None else None
    if rule is None:
        rule = QuotaRule(
            org_id=cmd.org_id,
            space_kind=cmd.space_kind,
            free_hours_per_month=cmd.free_hours_per_month,
            updated_at=utcnow(),
        )
        uow.session.add(rule)
    else:
        rule.free_hours_per_month = cmd.free_hours_per_month
        rule.updated_at = utcnow()
    uow.session.flush()
    _audit(
        uow,
        cmd.actor,
        entity="quota",
        entity_id=f"{cmd.org_id}/{cmd.space_kind}",
        action="set",
        details={"from": before, "to": cmd.free_hours_per_month},
    )
    return rule.version
