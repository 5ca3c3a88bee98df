"""What the assigned appraisal firm asks of a valuation case (handlers/valuations.py)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.principal import Principal


@dataclass(frozen=True)
class RecordCaseValuation:
    """The firm's valuation of a valuation case: ``amount`` (yuan, text), ``currency`` (CNY) and
    the report, an attachment of the case's messages; under ``If-Match`` (``expected_versions``)."""

    actor: Principal
    case_id: str
    amount: str
    currency: str
    report_attachment_id: str
    expected_versions: frozenset[int] | None = None
