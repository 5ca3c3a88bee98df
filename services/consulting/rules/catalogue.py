"""The catalogue's rules: a category's routing rule, a service item's fee guidance and SLA policy,
and the SLA targets in words a tenant reads. Pure.

An SLA policy holds the targets in business minutes of each priority, for both clocks (``tenant``:
what the park promises the tenant; ``firm``: what the firm owes the park) and both targets
(``first_response``, ``resolution``), and the share of a target at which a warning goes out::

    {"warn_share": "0.8",
     "targets": {"normal": {"tenant": {"first_response": 240, "resolution": 7200},
                            "firm": {"first_response": 480, "resolution": 6720}}, ...}}

A case copies its targets into its clocks when they start, so changing an item's policy changes
the cases submitted afterwards, never a running clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from services.consulting.rules.lifecycle import check_fee
from shared.errors import RuleViolation
from shared.i18n import Message, _, register_labels

ROUTINGS = ("manual", "round_robin", "least_load")
"""How a category's triaged cases reach a firm: the desk assigns (``manual``), the next firm in
turn (``round_robin``), the firm with the fewest open cases (``least_load``)."""
CATEGORY_ROUTING = "category-routing"
register_labels(
    CATEGORY_ROUTING,
    {
        "manual": _("Assigned by the desk"),
        "round_robin": _("Each firm in turn"),
        "least_load": _("The firm with the fewest open cases"),
    },
)

PRIORITIES = ("low", "normal", "high", "urgent")
CLOCKS = ("tenant", "firm")
TARGETS = ("first_response", "resolution")
MAX_TARGET_MINUTES = 60 * 24 * 365
"""A target of at most a year of business minutes counted around the clock: anything longer is a typo."""


def check_sla_policy(policy: Any) -> dict[str, Any]:
    """``policy`` checked and answered normalised (``warn_share`` a decimal string, targets ints):

    - ``rule/sla-policy-shape``: not an object with exactly ``warn_share`` and ``targets``, or
      ``targets`` lacking (or adding to) the four priorities, two clocks and two targets;
    - ``rule/sla-policy-warn-share``: ``warn_share`` not a decimal strictly between 0 and 1;
    - ``rule/sla-policy-target``: a target not a positive whole number of business minutes (at
      most :data:`MAX_TARGET_MINUTES`);
    - ``rule/sla-policy-order``: a clock's first response due after its resolution.

    Each names where the fault is (``where``: ``targets.normal.tenant.resolution``)."""
    if not isinstance(policy, Mapping) or set(policy) != {"warn_share", "targets"}:
        raise _shape("")
    share = _warn_share(policy["warn_share"])
    targets = policy["targets"]
    if not isinstance(targets, Mapping) or set(targets) != set(PRIORITIES):
        raise _shape("targets")
    normalised: dict[str, dict[str, dict[str, int]]] = {}
    for priority in PRIORITIES:
        clocks = targets[priority]
        if not isinstance(clocks, Mapping) or set(clocks) != set(CLOCKS):
            raise _shape(f"targets.{priority}")
        normalised[priority] = {}
        for clock in CLOCKS:
            pair = clocks[clock]
            where = f"targets.{priority}.{clock}"
            if not isinstance(pair, Mapping) or set(pair) != set(TARGETS):
                raise _shape(where)
            minutes = {target: _minutes(pair[target], f"{where}.{target}") for target in TARGETS}
            if minutes["first_response"] > minutes["resolution"]:
                raise RuleViolation(
                    _("The first response of {where} is due after its resolution.", where=where),
                    code="rule/sla-policy-order",
                    where=where,
                )
            normalised[priority][clock] = minutes
    return {"warn_share": str(share), "targets": normalised}


def _shape(where: str) -> RuleViolation:
    return RuleViolation(
        _(
            "An SLA policy is warn_share and targets for each priority (low, normal, high, urgent), each clock "
            "(tenant, firm) and each target (first_response, resolution); {where} is not.",
            where=where or "policy",
        ),
        code="rule/sla-policy-shape",
        where=where,
    )


def _warn_share(value: Any) -> Decimal:
    try:
        share = Decimal(str(value)) if isinstance(value, str | int | float | Decimal) else None
    except InvalidOperation:
        share = None
    if isinstance(value, bool) or share is None or not share.is_finite() or not Decimal(0) < share < Decimal(1):
        raise RuleViolation(
            _(
                "warn_share is the share of a target at which a warning goes out: "
                "a decimal between 0 and 1, such as 0.8."
            ),
            code="rule/sla-policy-warn-share",
            where="warn_share",
        )
    return share


def _minutes(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_TARGET_MINUTES:
        raise RuleViolation(
            _("{where} is a whole number of business minutes, more than 0.", where=where),
            code="rule/sla-policy-target",
            where=where,
        )
    return value


def check_fee_range(fee_from: Decimal | None, fee_to: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """A published fee range in CNY, answered with two places: each bound a fee as
    :func:`~services.consulting.rules.lifecycle.check_fee` takes it (its limit and its codes:
    ``rule/fee-places``, ``rule/fee-too-large``, ``rule/fee-positive``), except that a bound may
    be 0 (a first consultation free of charge); ``fee_from`` at most ``fee_to``
    (``rule/fee-range``, 422). Either may be absent."""
    low, high = (None if bound is None else _bound(bound) for bound in (fee_from, fee_to))
    if low is not None and high is not None and low > high:
        raise RuleViolation(
            _("fee_from ({low}) is more than fee_to ({high}).", low=low, high=high), code="rule/fee-range"
        )
    return low, high


def _bound(value: Decimal) -> Decimal:
    return Decimal("0.00") if value == 0 else check_fee(value)


def business_minutes_words(minutes: int, minutes_per_day: int) -> Message:
    """A target as a person reads it: whole working days when it is a multiple of the
    calendar's working day (``minutes_per_day``, e.g. 450 for 09:00–12:00 and 13:30–18:00),
    else working hours (and minutes): "4 working hours" / "4个工作小时", "16 working days",
    "1 working hour 30 minutes", "45 working minutes"."""
    if minutes_per_day > 0 and minutes >= minutes_per_day and minutes % minutes_per_day == 0:
        days = minutes // minutes_per_day
        return _("1 working day") if days == 1 else _("{days} working days", days=days)
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return _("{minutes} working minutes", minutes=rest)
    if rest == 0:
        return _("1 working hour") if hours == 1 else _("{hours} working hours", hours=hours)
    if hours == 1:
        return _("1 working hour {minutes} minutes", minutes=rest)
    return _("{hours} working hours {minutes} minutes", hours=hours, minutes=rest)
