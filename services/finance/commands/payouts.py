"""Commands after acceptance: the signed contract, a tranche recorded (the maker) and approved (the
checker), closing an application paid out in full. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shared.principal import Principal


@dataclass(frozen=True)
class SignContract:
    """The accepted partner or staff record the contract signed for an accepted loan, under
    ``If-Match`` on the application (``expected_versions``; None: ``*``)."""

    actor: Principal
    application_id: str
    contract_number: str
    signed_on: date
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class RecordDisbursement:
    """A tranche paid out (or a subsidy's payout), recorded by its maker: ``amount`` as the client
    wrote it (a decimal string, parsed by ``rules.money.parse_amount``)."""

    actor: Principal
    application_id: str
    amount: str
    disbursed_on: date
    reference: str | None = None


@dataclass(frozen=True)
class ApproveDisbursement:
    """A second person approves a pending tranche, under ``If-Match`` on the tranche."""

    actor: Principal
    application_id: str
    disbursement_id: str
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class CloseApplication:
    """The desk closes an application paid out in full, under ``If-Match`` on the application."""

    actor: Principal
    application_id: str
    expected_versions: frozenset[int] | None = None
