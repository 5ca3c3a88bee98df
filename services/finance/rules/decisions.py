"""Decisions: the maker-checker rule, tranches, and decisions as immutable records.

Recording a disbursement and approving a subsidy's payout take two different people: one records
it (the maker), another approves it (the checker): :func:`check_second_person`. Tranches never
pay out more than the accepted amount: :func:`check_tranche`. Every decision (an offer made or
accepted, a subsidy approved, a decline, a disbursement recorded or approved) is kept as a
:class:`Decision`, frozen, with the snapshot of what was decided on (:func:`snapshot`): the JSON
a reader gets back years later is the one written then, whatever became of the application.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from shared.errors import Conflict, RuleViolation
from shared.i18n import _

DECISION_KINDS = (
    "offer_made",
    "offer_accepted",
    "subsidy_approved",
    "declined",
    "disbursement_recorded",
    "disbursement_approved",
)
MAKER_CHECKER = ("disbursement", "subsidy_payout")
"""What two different people do: record a disbursement and approve it; a subsidy's payout, approved."""
_CENT = Decimal("0.01")
_MAX = Decimal("999999999999.99")

API_CLIENT_PREFIX = "client:"
"""How the subject of a partner's API client starts (the gateway's tokens)."""


def check_second_person(maker: str, checker: str) -> None:
    """The checker approves what another recorded: ``rule/same-person`` (409) when ``checker``
    is the ``maker`` (subjects compared as they are: one person, one subject);
    ``rule/checker-not-person`` (409) when the checker is an API client (``client:...``): a
    partner's integration is driven by its people, so approving through it would let one person
    record and approve by two paths. A client may be the maker (a person then checks it)."""
    if not maker or not checker:
        raise ValueError("maker and checker are subjects")
    if checker.startswith(API_CLIENT_PREFIX):
        raise Conflict(
            _("An approval is a person's: an API client cannot approve."),
            code="rule/checker-not-person",
        )
    if maker == checker:
        raise Conflict(
            _("You recorded this; another person must approve it."),
            code="rule/same-person",
            maker=maker,
        )


def check_tranche(accepted: Decimal, paid: Iterable[Decimal], tranche: Decimal) -> Decimal:
    """A tranche of more than zero, in fen (``rule/tranche-amount``, 422), that with the
    tranches ``paid`` already stays within the ``accepted`` amount (``rule/tranche-exceeds``,
    409, naming what remains). Answers what remains after it (zero: paid in full, the last)."""
    if not _in_fen(tranche):
        raise RuleViolation(_("A tranche is more than zero yuan, in fen."), code="rule/tranche-amount")
    remaining = accepted - sum(paid, Decimal("0"))
    if tranche > remaining:
        raise Conflict(
            _(
                "This tranche of {tranche} yuan would pay more than the {accepted} yuan accepted; "
                "{remaining} yuan remain.",
                tranche=format(tranche, ".2f"),
                accepted=format(accepted, ".2f"),
                remaining=format(remaining, ".2f"),
            ),
            code="rule/tranche-exceeds",
            remaining=format(remaining, ".2f"),
        )
    return (remaining - tranche).quantize(_CENT)


def _in_fen(amount: object) -> bool:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0 or amount > _MAX:
        return False
    return amount == amount.quantize(_CENT)


def paid_in_full(accepted: Decimal, paid: Iterable[Decimal]) -> bool:
    """Whether the tranches ``paid`` pay the ``accepted`` amount in full (the application is then
    ``disbursed``: ``complete_disbursement``)."""
    return sum(paid, Decimal("0")) >= accepted


# Immutable decisions ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value as the snapshot keeps it: Decimals as strings (money never a float), aware times
    in UTC ISO 8601, dates ISO, nested mappings and sequences alike."""
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("a decision holds finite amounts only")
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a decision's times are aware")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    raise TypeError(f"a decision cannot hold {type(value).__name__}")


@dataclass(frozen=True)
class Decision:
    """One decision, never changed once made: its ``kind`` (:data:`DECISION_KINDS`), the
    application, who decided and when (UTC, ISO 8601), and ``basis``: what was decided on, kept as
    its canonical JSON text (a string: nothing in it can be changed afterwards). Build it with
    :func:`decide`."""

    kind: str
    application_id: str
    decided_by: str
    decided_at: str
    basis: str

    @property
    def terms(self) -> dict[str, Any]:
        """What was decided on, as JSON-ready values (a fresh dict each time)."""
        terms: dict[str, Any] = json.loads(self.basis)
        return terms


def decide(
    kind: str, *, application_id: str, decided_by: str, decided_at: datetime, basis: Mapping[str, Any]
) -> Decision:
    """A :class:`Decision` of ``kind`` on ``basis`` (the offer's terms, the tranche, the approved
    amount, the documents' versions...): values are copied into their JSON form at once, so a
    caller's later change to ``basis`` never reaches the record."""
    if kind not in DECISION_KINDS:
        raise ValueError(f"unknown decision kind {kind!r}")
    if not decided_by:
        raise ValueError("a decision names who decided")
    return Decision(
        kind=kind,
        application_id=str(application_id),
        decided_by=decided_by,
        decided_at=_plain(decided_at),
        basis=_canonical(_plain(dict(basis))),
    )


def snapshot(decision: Decision) -> dict[str, Any]:
    """The JSON record of ``decision``: kind, application, who, when, what was decided on, and
    ``digest``, the SHA-256 of the canonical JSON of the rest (sorted keys, no spaces), by which a
    stored record shows it was not changed: :func:`verify`."""
    record = {
        "kind": decision.kind,
        "application_id": decision.application_id,
        "decided_by": decision.decided_by,
        "decided_at": decision.decided_at,
        "basis": decision.terms,
    }
    return {**record, "digest": _digest(record)}


def verify(record: Mapping[str, Any]) -> bool:
    """Whether a stored snapshot is as :func:`snapshot` wrote it (its digest matches the rest)."""
    rest = {k: v for k, v in record.items() if k != "digest"}
    return record.get("digest") == _digest(rest)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(record: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(record).encode()).hexdigest()
