"""The states of a case, the actions that move it between them, and the rules each action keeps
(reasons, quotes, ratings, the automatic close). Statuses are defined once, in the published
contract (:mod:`shared.events.consulting`): what other services read is what we store. Who may
do each action is the table of rights (``permissions.RIGHTS``), not this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from services.consulting.rules.names import status_name
from shared.errors import Conflict, RuleViolation
from shared.events.consulting import CASE_STATUSES
from shared.i18n import Message, Text, _
from shared.rights import alternatives
from shared.transitions import next_state

STATUSES = CASE_STATUSES

_MOVES: dict[str, dict[str, str]] = {
    "triage": {"submitted": "triaged"},
    "assign": {"triaged": "assigned", "assigned": "assigned"},
    "accept": {"assigned": "accepted"},
    "decline": {"assigned": "triaged"},
    "start": {"accepted": "in_progress"},
    "wait": {"in_progress": "waiting_on_tenant"},
    "resume": {"waiting_on_tenant": "in_progress"},
    "propose_solution": {"in_progress": "solution_proposed"},
    "accept_solution": {"solution_proposed": "closed"},
    "reject_solution": {"solution_proposed": "in_progress"},
    "cancel": {"submitted": "cancelled", "triaged": "cancelled", "assigned": "cancelled", "accepted": "cancelled"},
    "auto_close": {"solution_proposed": "closed"},
}
"""Every transition: action → {from state: to state}. ``assign`` from ``assigned`` hands the case
to another firm before the first has answered; ``decline`` sends it back to the desk (triaged,
no firm); ``reject_solution`` reopens it (in progress again)."""

TRANSITIONS: Mapping[str, Mapping[str, str]] = _MOVES
ACTIONS = tuple(_MOVES)
CALLER_ACTIONS = tuple(a for a in ACTIONS if a != "auto_close")
"""The actions a caller asks for over HTTP (``POST /cases/{id}/<action>``, with ``-`` for ``_``);
``auto_close`` is the worker's."""

OPEN = tuple(s for s in STATUSES if s not in ("closed", "cancelled"))
"""States in which a case is still being handled (counted in the backlog and the SLAs)."""
CLOCKS_PAUSED = ("waiting_on_tenant",)
"""States in which the SLA clocks stand still: the case waits on the tenant."""

EVENT_OF_ACTION: Mapping[str, str | None] = {
    "triage": "consulting.case.triaged",
    "assign": "consulting.case.assigned",
    "accept": "consulting.case.accepted",
    "decline": "consulting.case.declined",
    "start": None,
    "wait": "consulting.case.waiting",
    "resume": None,
    "propose_solution": "consulting.case.solution_proposed",
    "accept_solution": "consulting.case.closed",
    "reject_solution": "consulting.case.reopened",
    "cancel": "consulting.case.cancelled",
    "auto_close": "consulting.case.closed",
}
"""The event each transition publishes (issue 8 names none for starting and resuming work)."""

REASON_REQUIRED = ("decline", "wait", "reject_solution")
"""Actions that say why (or, for ``wait``, what the tenant is asked for). A cancellation says why
when the park's staff cancel; a tenant withdrawing their own request need not."""

AUTO_CLOSE_DAYS = 7
"""Days a proposed solution waits for the tenant's answer before the worker closes the case."""

QUOTABLE = ("accepted", "in_progress")
"""States in which the firm may propose a fee: once it has taken the case on, before the
solution. A quote in ``accepted`` is the one ``start`` waits for when the item requires one."""
MAX_FEE = Decimal("9999999999.99")
_CENT = Decimal("0.01")


def allowed_from(action: str) -> tuple[str, ...]:
    """The states ``action`` is possible from, in the order of :data:`STATUSES`."""
    return tuple(s for s in STATUSES if s in _MOVES[action])


def next_status(status: str, action: str, *, for_tenant: bool = False) -> str:
    """The state ``action`` leads to from ``status``; ``rule/state-transition`` (409) if none,
    naming the states it is possible from (in the tenant's names for a tenant, ``for_tenant``)."""
    if action not in _MOVES:
        raise ValueError(f"unknown case action {action!r}")
    return next_state(
        _MOVES,
        status,
        action,
        states=STATUSES,
        name=lambda s: status_name(s, for_tenant=for_tenant),
        refusal=_REFUSALS[action],
        subject="case",
    )


# One text per action; {allowed} names the states it is possible from (those of _MOVES).
_REFUSALS: dict[str, Callable[[Text, Text], Message]] = {
    "triage": lambda allowed, status: _(
        "Only a case that is {allowed} can be triaged; this one is {status}.", allowed=allowed, status=status
    ),
    "assign": lambda allowed, status: _(
        "Only a case that is {allowed} can be assigned to a firm; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "accept": lambda allowed, status: _(
        "Only a case that is {allowed} can be accepted by the firm; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "decline": lambda allowed, status: _(
        "Only a case that is {allowed} can be declined by the firm; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "start": lambda allowed, status: _(
        "Work can start only on a case that is {allowed}; this one is {status}.", allowed=allowed, status=status
    ),
    "wait": lambda allowed, status: _(
        "Only a case that is {allowed} can be put to wait on the tenant; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "resume": lambda allowed, status: _(
        "Work can resume only on a case that is {allowed}; this one is {status}.", allowed=allowed, status=status
    ),
    "propose_solution": lambda allowed, status: _(
        "A solution can be proposed only on a case that is {allowed}; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "accept_solution": lambda allowed, status: _(
        "A solution can be accepted only on a case that is {allowed}; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "reject_solution": lambda allowed, status: _(
        "A solution can be rejected only on a case that is {allowed}; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "cancel": lambda allowed, status: _(
        "Only a case that is {allowed} can be cancelled; this one is {status}.", allowed=allowed, status=status
    ),
    "auto_close": lambda allowed, status: _(
        "Only a case that is {allowed} can be closed without an answer; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
}

_REASONS_ASKED: dict[str, Message] = {
    "decline": _("Say why the firm declines the case."),
    "wait": _("Say what the tenant is asked for."),
    "reject_solution": _("Say why the solution is rejected."),
    "cancel": _("Say why the park cancels the case."),
}


def check_reason(action: str, reason: str | None, *, staff: bool = False) -> None:
    """The reason rule of ``action``: ``rule/reason-required`` (422) when one is needed and
    ``reason`` is empty. Needed for :data:`REASON_REQUIRED`, and for ``cancel`` by staff."""
    needed = action in REASON_REQUIRED or (action == "cancel" and staff)
    if needed and not (reason and reason.strip()):
        raise RuleViolation(_REASONS_ASKED[action], code="rule/reason-required", action=action)


# Quotes ------------------------------------------------------------------------------------------

_QUOTE_MOVES: dict[str, dict[str, str]] = {
    "accept": {"proposed": "accepted"},
    "reject": {"proposed": "rejected"},
    "supersede": {"proposed": "superseded"},
}
"""A quote's answers: the tenant accepts or rejects a proposed quote; a newer proposal from the
firm supersedes one still unanswered. Answered quotes stay as they are (the record of the fee)."""
QUOTE_ACTIONS = tuple(_QUOTE_MOVES)


def check_fee(fee: Decimal | str | int) -> Decimal:
    """A firm's fee in CNY: more than zero, at most two decimal places, at most
    :data:`MAX_FEE`; answered with two places (``Decimal("1200.00")``). Any text or number is
    answered with one of the four rules, never an exception of its own: not a finite amount (NaN,
    Infinity) is ``rule/fee-invalid``; the size is checked before the places, so an amount of any
    size or exponent (``1e400``, ``10**40``) is ``rule/fee-too-large``, never a 500."""
    try:
        value = Decimal(fee)
    except (InvalidOperation, TypeError, ValueError):
        raise RuleViolation(_("A fee is an amount of yuan, such as 1200.00."), code="rule/fee-invalid") from None
    if not value.is_finite():
        raise RuleViolation(_("A fee is an amount of yuan, such as 1200.00."), code="rule/fee-invalid")
    if value <= 0:
        raise RuleViolation(_("A fee must be more than zero."), code="rule/fee-positive")
    if value > MAX_FEE:
        raise RuleViolation(_("A fee this large cannot be stored."), code="rule/fee-too-large")
    # Below MAX_FEE a fee has at most 12 digits before the point: quantizing to fen stays within
    # the context's 28 digits, whatever the exponent it was written with.
    cents = value.quantize(_CENT)
    if value != cents:
        raise RuleViolation(_("A fee has at most two decimal places (fen)."), code="rule/fee-places")
    return cents


def check_quotable(status: str, *, for_tenant: bool = False) -> None:
    """A firm quotes only a case it has taken on and not yet solved (:data:`QUOTABLE`)."""
    if status not in QUOTABLE:
        names = alternatives(tuple(status_name(s, for_tenant=for_tenant) for s in QUOTABLE))
        raise Conflict(
            _(
                "A fee can be proposed only on a case that is {allowed}; this one is {status}.",
                allowed=names,
                status=status_name(status, for_tenant=for_tenant),
            ),
            code="rule/state-transition",
            case_status=status,
            action="quote",
            allowed=list(QUOTABLE),
        )


def check_no_agreed_fee(accepted_id: str | None, accepted_fee: Decimal | None) -> None:
    """One agreed fee per case: once the tenant has accepted a quote (``accepted_id``, of
    ``accepted_fee``), the firm proposes no other: ``rule/quote-already-accepted`` (409). Work
    beyond what was agreed is a new case, or a change the firm and the tenant agree outside the
    quote (a park's finance invoices one fee per case, and ``quote_accepted`` is told once)."""
    if accepted_id is not None:
        raise Conflict(
            _(
                "The tenant has already accepted a fee of {fee} yuan on this case; a case has one agreed fee.",
                fee=f"{accepted_fee:.2f}" if accepted_fee is not None else "",
            ),
            code="rule/quote-already-accepted",
            quote_id=accepted_id,
        )


def next_quote_status(status: str, action: str) -> str:
    """The state of a quote after ``action`` (accept, reject, supersede); only a proposed quote
    is answered: ``rule/quote-answered`` (409) otherwise."""
    if action not in _QUOTE_MOVES:
        raise ValueError(f"unknown quote action {action!r}")
    try:
        return _QUOTE_MOVES[action][status]
    except KeyError:
        raise Conflict(
            _("This quote has been answered already; only a proposed quote can be accepted or rejected."),
            code="rule/quote-answered",
            quote_status=status,
            action=action,
        ) from None


def check_start(*, quote_required: bool, quote_accepted: bool) -> None:
    """Paid work waits for the tenant's yes: when the case's service item requires a quote,
    ``start`` needs an accepted quote on the case (``rule/quote-not-accepted``, 409). An item
    that needs none starts as soon as the firm has accepted the case."""
    if quote_required and not quote_accepted:
        raise Conflict(
            _("Work on this service starts once the tenant has accepted a quote for it."),
            code="rule/quote-not-accepted",
        )


# After the solution ------------------------------------------------------------------------------

MIN_RATING, MAX_RATING = 1, 5


def check_rating(status: str, stars: int, *, rated: bool = False) -> None:
    """A rating: 1–5 stars (``rule/rating-range``, 422), once (``rule/already-rated``, 409), on a
    case closed after its solution was accepted or left unanswered (``rule/rate-closed-only``,
    409; a cancelled case has nothing to rate)."""
    if status != "closed":
        raise Conflict(_("Only a closed case can be rated."), code="rule/rate-closed-only", case_status=status)
    if rated:
        raise Conflict(_("This case has been rated already."), code="rule/already-rated")
    if isinstance(stars, bool) or not isinstance(stars, int) or not MIN_RATING <= stars <= MAX_RATING:
        raise RuleViolation(
            _("A rating is from {low} to {high} stars.", low=MIN_RATING, high=MAX_RATING), code="rule/rating-range"
        )


def auto_close_due(proposed_at: datetime, now: datetime, *, days: int = AUTO_CLOSE_DAYS) -> bool:
    """Whether a solution proposed at ``proposed_at`` and still unanswered at ``now`` closes the
    case (``auto_close``): ``days`` calendar days after it was proposed. Calendar, not business,
    days: the tenant's silence is not the firm's or the desk's work time."""
    return now >= proposed_at + timedelta(days=days)
