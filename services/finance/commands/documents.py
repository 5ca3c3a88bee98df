"""Commands on an application's documents, patents, valuation and pledge registration."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.principal import Principal


@dataclass(frozen=True)
class UploadedFile:
    """A file as the request sent it: its name (the client's, made safe later) and bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class UploadDocument:
    """Add a document of ``doc_type`` to the application; ``review_id`` names the partner's
    request it answers (optional: found from the type when only one review asked for it)."""

    actor: Principal
    application_id: str
    doc_type: str
    file: UploadedFile
    review_id: str | None = None


@dataclass(frozen=True)
class DeleteDocument:
    actor: Principal
    application_id: str
    document_id: str


@dataclass(frozen=True)
class AddPatent:
    """List a patent on an IP-pledge application (``fields``: number, title, holder, granted_on,
    expires_on, fees_paid_until, existing_pledges)."""

    actor: Principal
    application_id: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeletePatent:
    actor: Principal
    application_id: str
    patent_id: str


@dataclass(frozen=True)
class RequestValuation:
    """The desk asks an appraisal firm (``appraiser_org_id``, optional) to value the patents."""

    actor: Principal
    application_id: str
    appraiser_org_id: str | None = None
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class RecordValuation:
    """The appraised value of the patents (``amount``, yuan as text or Decimal)."""

    actor: Principal
    application_id: str
    amount: Any
    appraiser_org_id: str | None = None
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class RecordPledge:
    """The pledge's registration at CNIPA: its ``number`` and ``registered_on``."""

    actor: Principal
    application_id: str
    number: str
    registered_on: date
    expected_versions: frozenset[int] | None = None
