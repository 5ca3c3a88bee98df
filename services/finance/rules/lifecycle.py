"""The states of a financing application, of each partner's review of it and of each offer; the
actions that move them; and the rules each action keeps (reasons, decline codes, offer terms,
expiry, "editing after offers invalidates them", the subsidy variant). Statuses are defined once,
in the published contract (:mod:`shared.events.finance`). Who may do each action is the table of
rights (``permissions.RIGHTS``), not this module.

Three machines, one table each:
- the application (:data:`TRANSITIONS`; a subsidy's in :data:`SUBSIDY_TRANSITIONS`): draft →
  submitted → pre_review (the desk) → routed (to one or several partners) → accepted (an offer,
  or a bureau's approval) → contract_signed → disbursing (tranches) → disbursed → closed;
- each partner's review (:data:`REVIEW_TRANSITIONS`): routed → under_review ⇄ info_requested →
  offer_made | declined (| approved, a subsidy);
- each offer (:data:`OFFER_TRANSITIONS`): made → accepted | withdrawn | expired | invalidated |
  declined.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation

from services.finance.rules.cost import MAX_RATE, MAX_TERM_MONTHS
from services.finance.rules.names import DECLINE_REASON, OFFER_STATUS, REVIEW_STATUS, application_status_name
from shared.errors import Conflict, RuleViolation
from shared.events.finance import APPLICATION_STATUSES, DECLINE_REASONS, OFFER_STATUSES, REVIEW_STATUSES
from shared.i18n import Message, Text, _, label
from shared.rights import alternatives
from shared.transitions import next_state

STATUSES = APPLICATION_STATUSES

_BEFORE_ACCEPTANCE = ("draft", "submitted", "pre_review", "routed")

_MOVES: dict[str, dict[str, str]] = {
    "edit": {"draft": "draft", "routed": "routed"},
    "submit": {"draft": "submitted"},
    "start_pre_review": {"submitted": "pre_review"},
    "route": {"pre_review": "routed", "routed": "routed"},
    "turn_down": {"pre_review": "closed", "routed": "closed"},
    "accept_offer": {"routed": "accepted"},
    "sign_contract": {"accepted": "contract_signed"},
    "disburse": {"contract_signed": "disbursing", "disbursing": "disbursing"},
    "complete_disbursement": {"disbursing": "disbursed"},
    "close": {"disbursed": "closed"},
    "withdraw": {s: "withdrawn" for s in _BEFORE_ACCEPTANCE},
}
"""The application's transitions (every product but a subsidy): action → {from: to}. ``edit``
keeps the state (in ``routed`` it invalidates the offers made: :func:`invalidated_by_edit`);
``route`` from ``routed`` adds partners; ``turn_down`` is the desk's no (with a reason);
``disburse`` records a tranche (one or several), ``complete_disbursement`` follows the tranche
that pays the accepted amount in full (:func:`services.finance.rules.decisions.check_tranche`)."""

_SUBSIDY_MOVES: dict[str, dict[str, str]] = {
    **{a: m for a, m in _MOVES.items() if a not in ("accept_offer", "sign_contract", "disburse")},
    "approve": {"routed": "accepted"},
    "disburse": {"accepted": "disbursing", "disbursing": "disbursing"},
}
"""A subsidy's transitions: the government bureau approves an amount (``approve``) instead of an
offer the tenant accepts, and there is no contract: the payout follows the approval."""

TRANSITIONS: Mapping[str, Mapping[str, str]] = _MOVES
SUBSIDY_TRANSITIONS: Mapping[str, Mapping[str, str]] = _SUBSIDY_MOVES
ACTIONS = tuple(dict.fromkeys((*_MOVES, *_SUBSIDY_MOVES)))
SUBSIDY = "subsidy"

OPEN = tuple(s for s in STATUSES if s not in ("closed", "withdrawn"))
EDITABLE = tuple(_MOVES["edit"])
"""States in which the tenant changes the application: a draft, and while partners review it
(answering their questions); an edit in ``routed`` invalidates the offers made."""

EVENT_OF_ACTION: Mapping[str, str | None] = {
    "edit": None,
    "submit": "finance.application.submitted",
    "start_pre_review": None,
    "route": "finance.application.routed",
    "turn_down": "finance.application.closed",
    "accept_offer": "finance.application.offer_accepted",
    "approve": "finance.application.offer_accepted",
    "sign_contract": "finance.application.contract_signed",
    "disburse": "finance.application.disbursed",
    "complete_disbursement": None,
    "close": "finance.application.closed",
    "withdraw": "finance.application.withdrawn",
}
"""The event each application transition publishes (issue 9 names none for editing, starting
the pre-review, or the last tranche, whose ``disbursed`` event says ``final``). A bureau's approval
is published as an accepted offer of kind ``approval``."""

REASON_REQUIRED = ("turn_down",)


def _table(subsidy: bool) -> Mapping[str, Mapping[str, str]]:
    return _SUBSIDY_MOVES if subsidy else _MOVES


def allowed_from(action: str, *, subsidy: bool = False) -> tuple[str, ...]:
    """The states ``action`` is possible from (for a subsidy, ``subsidy``), in the order of :data:`STATUSES`."""
    moves = _table(subsidy).get(action, {})
    return tuple(s for s in STATUSES if s in moves)


def next_status(status: str, action: str, *, subsidy: bool = False, for_tenant: bool = False) -> str:
    """The state ``action`` leads an application to from ``status`` (a subsidy's table when
    ``subsidy``); ``rule/state-transition`` (409) if none, naming the states it is possible from
    in the reader's words (the tenant's names for a tenant, ``for_tenant``). An action of the
    other family (accepting an offer on a subsidy, a bureau's approval of a loan) is
    ``rule/not-for-product-kind`` (409)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown application action {action!r}")
    table = _table(subsidy)
    if action not in table:
        raise Conflict(
            _("A subsidy is approved by the bureau, not by accepting an offer or signing a contract.")
            if subsidy
            else _("Only a subsidy is approved by a bureau; this application is for a loan or an investment."),
            code="rule/not-for-product-kind",
            action=action,
            subsidy=subsidy,
        )
    return next_state(
        table,
        status,
        action,
        states=STATUSES,
        name=lambda s: application_status_name(s, for_tenant=for_tenant),
        refusal=_REFUSALS[action],
        subject="application",
    )


# One text per action; {allowed} names the states it is possible from (those of the tables).
_REFUSALS: dict[str, Callable[[Text, Text], Message]] = {
    "edit": lambda allowed, status: _(
        "Only an application that is {allowed} can be changed; this one is {status}.", allowed=allowed, status=status
    ),
    "submit": lambda allowed, status: _(
        "Only an application that is {allowed} can be submitted; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "start_pre_review": lambda allowed, status: _(
        "The pre-review can start only on an application that is {allowed}; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "route": lambda allowed, status: _(
        "Only an application that is {allowed} can be routed to partners; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "turn_down": lambda allowed, status: _(
        "Only an application that is {allowed} can be turned down; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "accept_offer": lambda allowed, status: _(
        "An offer can be accepted only on an application that is {allowed}; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "approve": lambda allowed, status: _(
        "A subsidy can be approved only when the application is {allowed}; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "sign_contract": lambda allowed, status: _(
        "A contract can be signed only on an application that is {allowed}; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "disburse": lambda allowed, status: _(
        "Money can be paid out only on an application that is {allowed}; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "complete_disbursement": lambda allowed, status: _(
        "Only an application that is {allowed} can be paid out in full; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
    "close": lambda allowed, status: _(
        "Only an application that is {allowed} can be closed; this one is {status}.", allowed=allowed, status=status
    ),
    "withdraw": lambda allowed, status: _(
        "Only an application that is {allowed} can be withdrawn; this one is {status}.",
        allowed=allowed,
        status=status,
    ),
}

_REASONS_ASKED: dict[str, Message] = {
    "turn_down": _("Say why the park turns the application down."),
    "request_info": _("Say which documents or answers the tenant is asked for."),
}


def check_reason(action: str, reason: str | None) -> None:
    """``rule/reason-required`` (422) when ``action`` needs a reason (turning an application down;
    a partner's request for information says what it needs) and ``reason`` is empty."""
    if action in _REASONS_ASKED and not (reason and reason.strip()):
        raise RuleViolation(_REASONS_ASKED[action], code="rule/reason-required", action=action)


def check_route(partners: Iterable[str], providers: Iterable[str], already: Iterable[str] = ()) -> tuple[str, ...]:
    """The partners a routing adds: at least one (``rule/route-empty``, 422), each one of the
    product's providers (``rule/route-not-provider``, 422), none routed already
    (``rule/route-repeated``, 409). Answered in the order given, without repeats."""
    chosen = tuple(dict.fromkeys(partners))
    if not chosen:
        raise RuleViolation(_("Choose at least one partner to route the application to."), code="rule/route-empty")
    strangers = [p for p in chosen if p not in set(providers)]
    if strangers:
        raise RuleViolation(
            _("Only the product's providers can review it; not {partners}.", partners=", ".join(strangers)),
            code="rule/route-not-provider",
            partners=strangers,
        )
    repeated = [p for p in chosen if p in set(already)]
    if repeated:
        raise Conflict(
            _("The application is routed to {partners} already.", partners=", ".join(repeated)),
            code="rule/route-repeated",
            partners=repeated,
        )
    return chosen


# A partner's review --------------------------------------------------------------------------

_REVIEW_MOVES: dict[str, dict[str, str]] = {
    "start_review": {"routed": "under_review"},
    "request_info": {"under_review": "info_requested"},
    "provide_info": {"info_requested": "under_review"},
    "make_offer": {"under_review": "offer_made"},
    "approve": {"under_review": "approved"},
    "decline": {"routed": "declined", "under_review": "declined", "info_requested": "declined"},
    "reconsider": {"offer_made": "under_review"},
    "cancel": {s: "cancelled" for s in ("routed", "under_review", "info_requested", "offer_made")},
}
"""One partner's review: action → {from: to}. ``provide_info`` resumes the review where it was
(under review: the request paused it, nothing it had decided is lost). ``reconsider``: the offer
lapsed (the tenant edited the application, it expired, or the tenant declined it) and the partner
reviews again. ``cancel``: the application was withdrawn, turned down, or another partner's offer
accepted. ``approve`` is a bureau's, for a subsidy."""

REVIEW_TRANSITIONS: Mapping[str, Mapping[str, str]] = _REVIEW_MOVES
REVIEW_ACTIONS = tuple(_REVIEW_MOVES)
RECORDED_ACTIONS = (
    "draft",
    "add_document",
    "remove_document",
    "add_patent",
    "remove_patent",
    "request_valuation",
    "record_valuation",
    "record_pledge",
    "release_pledge",
    "record_disbursement",
)
"""Lines of the audit trail that move no machine: the draft's creation, its documents and patents,
the valuation and the pledge, a tranche recorded before its approval (each with its name in
``names.APPLICATION_ACTION``)."""
REVIEW_OPEN = ("routed", "under_review", "info_requested", "offer_made")

REVIEW_EVENT_OF_ACTION: Mapping[str, str | None] = {
    "start_review": None,
    "request_info": "finance.application.info_requested",
    "provide_info": "finance.application.info_provided",
    "make_offer": "finance.application.offer_made",
    "approve": None,
    "decline": "finance.application.declined",
    "reconsider": None,
    "cancel": None,
}
"""The event each review transition publishes. A bureau's ``approve`` is told by the
application's own (``approve``: ``offer_accepted``); ``cancel`` by the application's withdrawal
or closing, or the ``offer_withdrawn`` of the offers that lapse with it."""


def next_review_status(status: str, action: str) -> str:
    """The state of a partner's review after ``action``; ``rule/state-transition`` (409) naming
    the states it is possible from."""
    if action not in _REVIEW_MOVES:
        raise ValueError(f"unknown review action {action!r}")
    return next_state(
        _REVIEW_MOVES,
        status,
        action,
        states=REVIEW_STATUSES,
        name=lambda s: label(REVIEW_STATUS, s),
        refusal=lambda allowed, now: _(
            "This step of the partner's review ({action}) needs it to be {allowed}; it is {status}.",
            action=label("finance-application-action", action),
            status=now,
            allowed=allowed,
        ),
        subject="review",
    )


def check_decline(reason_code: str | None, reason: str | None = None) -> str:
    """A partner declines with a code of :data:`DECLINE_REASONS` (``rule/decline-reason``, 422
    naming them) and, for ``other``, the reason in words (``rule/reason-required``, 422)."""
    if reason_code not in DECLINE_REASONS:
        raise RuleViolation(
            _(
                "Say why the partner declines with one of: {reasons}.",
                reasons=alternatives(tuple(label(DECLINE_REASON, r) for r in DECLINE_REASONS)),
            ),
            code="rule/decline-reason",
            allowed=list(DECLINE_REASONS),
        )
    if reason_code == "other" and not (reason and reason.strip()):
        raise RuleViolation(
            _("A decline for another reason says what it is."), code="rule/reason-required", action="decline"
        )
    return reason_code


# Offers --------------------------------------------------------------------------------------

_OFFER_MOVES: dict[str, dict[str, str]] = {
    "accept": {"made": "accepted"},
    "withdraw": {"made": "withdrawn"},
    "expire": {"made": "expired"},
    "invalidate": {"made": "invalidated"},
    "decline": {"made": "declined"},
}
"""An offer's answers, all from ``made``: the tenant accepts or declines it; it is withdrawn when
the tenant accepts another (or its partner takes it back); it expires at its expiry; it is
invalidated when the tenant edits the application. An answered offer stays as it was: the record."""
OFFER_TRANSITIONS: Mapping[str, Mapping[str, str]] = _OFFER_MOVES
OFFER_ACTIONS = tuple(_OFFER_MOVES)
OFFER_EVENT_OF_ACTION: Mapping[str, str | None] = {
    "accept": "finance.application.offer_accepted",
    "withdraw": "finance.application.offer_withdrawn",
    "expire": None,
    "invalidate": None,
    "decline": None,
}
"""The event of each offer's transition (issue 9 names an event for acceptance and withdrawal;
an expired, invalidated or declined offer is read on the application)."""


def next_offer_status(status: str, action: str) -> str:
    """The state of an offer after ``action``; only an offer still ``made`` is answered:
    ``rule/offer-answered`` (409) naming what it is."""
    if action not in _OFFER_MOVES:
        raise ValueError(f"unknown offer action {action!r}")
    if status not in OFFER_STATUSES:
        raise ValueError(f"unknown offer status {status!r}")
    try:
        return _OFFER_MOVES[action][status]
    except KeyError:
        raise Conflict(
            _(
                "This offer is {status}; only an offer still open can be answered.",
                status=label(OFFER_STATUS, status),
            ),
            code="rule/offer-answered",
            offer_status=status,
            action=action,
        ) from None


def offer_expired(offer_expiry: datetime, now: datetime) -> bool:
    """Whether an offer expiring at ``offer_expiry`` has expired at ``now`` (aware times): at its
    expiry, not a moment after, it can no longer be accepted."""
    if offer_expiry.tzinfo is None or now.tzinfo is None:
        raise ValueError("offer expiry and now must be aware datetimes")
    return now >= offer_expiry


def check_acceptable(status: str, offer_expiry: datetime | None, now: datetime) -> None:
    """The tenant accepts an offer still made (:func:`next_offer_status`) and not expired:
    ``rule/offer-expired`` (409)."""
    next_offer_status(status, "accept")
    if offer_expiry is not None and offer_expired(offer_expiry, now):
        raise Conflict(_("This offer has expired; ask the partner for a new one."), code="rule/offer-expired")


_CENT = Decimal("0.01")
_RATE_PLACES = Decimal("0.0001")


def check_offer_terms(
    *, amount: Decimal, annual_rate: Decimal, term_months: int, expires_at: datetime, now: datetime
) -> None:
    """An offer's terms, as the partner makes it: an amount of more than zero in fen
    (``rule/offer-amount``), a nominal annual rate from 0 to :data:`MAX_RATE` percent with at most
    four decimal places, as products' rates (``rule/offer-rate``), a term of 1 to
    :data:`MAX_TERM_MONTHS` months (``rule/offer-term``), an expiry after ``now``
    (``rule/offer-expiry``). All 422. Amounts are Decimals, never floats."""
    if not _decimal_in(amount, Decimal("0"), None, exclusive_low=True):
        raise RuleViolation(_("An offer's amount is more than zero yuan, in fen."), code="rule/offer-amount")
    if not _decimal_in(annual_rate, Decimal("0"), MAX_RATE, places=_RATE_PLACES):
        raise RuleViolation(
            _("An offer's rate is from 0 to {max}% a year, with at most four decimal places.", max=MAX_RATE),
            code="rule/offer-rate",
        )
    if isinstance(term_months, bool) or not isinstance(term_months, int) or not 1 <= term_months <= MAX_TERM_MONTHS:
        raise RuleViolation(
            _("An offer's term is from 1 to {max} months.", max=MAX_TERM_MONTHS), code="rule/offer-term"
        )
    if expires_at <= now:
        raise RuleViolation(_("An offer's expiry must be in the future."), code="rule/offer-expiry")


def _decimal_in(
    value: object, low: Decimal, high: Decimal | None, *, exclusive_low: bool = False, places: Decimal = _CENT
) -> bool:
    if not isinstance(value, Decimal) or not value.is_finite():
        return False
    try:
        if value != value.quantize(places):
            return False
    except InvalidOperation:
        return False
    if value < low or (exclusive_low and value == low):
        return False
    return high is None or value <= high


def invalidated_by_edit(offers: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """Editing an application after offers were made invalidates them: of ``offers`` (id,
    status), the ids of those still ``made``, each to ``invalidate``. An offer answered already
    (accepted, declined, expired, withdrawn) is a record and stays as it was."""
    return tuple(offer_id for offer_id, status in offers if status == "made")


def withdrawn_by_acceptance(accepted_id: str, offers: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """Accepting one offer withdraws the others still ``made`` (their partners are told)."""
    return tuple(offer_id for offer_id, status in offers if status == "made" and offer_id != accepted_id)
