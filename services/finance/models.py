"""Finance's tables: products and the partners providing them, the tenants' company profiles,
applications with their audit trail, each partner's review, offers, documents (bytes in the
database by default, as consulting's attachments), patents of IP-pledge applications, immutable
decisions, disbursements (maker-checker); ``TABLES`` adds the messaging tables and the
organisation directory every service database holds.

Money is ``Numeric(14, 2)`` in CNY (``Decimal`` in code, a decimal string in JSON), rates
``Numeric(7, 4)`` in percent per year. Times are UTC (:class:`shared.db.UtcDateTime`). The rules'
shapes are in :mod:`services.finance.rules` (``fees``, ``eligibility``, ``checklist``, ``window``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.audit import Chained, define_chain_heads
from shared.db import UtcDateTime, metadata
from shared.service import service_tables

NAME = "finance"

MONEY = Numeric(14, 2)
RATE = Numeric(7, 4)
TS = UtcDateTime()


class Base(DeclarativeBase):
    metadata = metadata()


TABLES = service_tables(NAME, Base.metadata)
AUDIT_HEADS = define_chain_heads(Base.metadata)
directory = TABLES.directory
database = TABLES.database


# Products -----------------------------------------------------------------------------------------


class Product(Base):
    """A financing product the park brokers (``kind``: subsidy, guaranteed_loan, guide_fund,
    venture_capital, leasing, ip_pledge_loan), with its ranges, fees (``rules.cost.Fee`` as
    dicts), eligibility rules (``rules.eligibility``), document checklist
    (``[{"type", "name", "name_zh", "required"}]``) and, for a subsidy call, its application
    window (``{"opens_at", "closes_at", "grace_days"}``)."""

    __tablename__ = "products"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    amount_min: Mapped[Decimal] = mapped_column(MONEY)
    amount_max: Mapped[Decimal] = mapped_column(MONEY)
    term_min: Mapped[int] = mapped_column(Integer)
    term_max: Mapped[int] = mapped_column(Integer)
    rate_min: Mapped[Decimal | None] = mapped_column(RATE)
    rate_max: Mapped[Decimal | None] = mapped_column(RATE)
    repayment_method: Mapped[str | None] = mapped_column(String(30))
    fees: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSON)
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    window: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(TS)

    __mapper_args__ = {"version_id_col": version}


class ProductProvider(Base):
    """A partner (bank, guarantee company, fund, lessor, bureau) that provides a product: the
    desk routes an application of the product to some of them."""

    __tablename__ = "product_providers"

    product_id: Mapped[str] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    partner_org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str | None] = mapped_column(String(40))
    """What the partner does in it, when several take part (``lender``, ``guarantor``)."""


# Company profiles ---------------------------------------------------------------------------------


class CompanyProfile(Base):
    """What a tenant says of itself for eligibility (sector, move-in date, revenue, staff, granted
    patents); an application keeps a copy of it as it was when submitted."""

    __tablename__ = "company_profiles"

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sector: Mapped[str | None] = mapped_column(String(64))
    moved_in_on: Mapped[date | None] = mapped_column(Date)
    annual_revenue: Mapped[Decimal | None] = mapped_column(MONEY)
    employees: Mapped[int | None] = mapped_column(Integer)
    granted_patents: Mapped[int | None] = mapped_column(Integer)
    credit_code: Mapped[str | None] = mapped_column(String(18))
    version: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(TS)

    __mapper_args__ = {"version_id_col": version}


# Applications -------------------------------------------------------------------------------------


class Application(Base):
    """A tenant's application for a product: the subject of the rights table (``org_id``,
    ``applicant``; the partners it is routed to through :class:`Review`). ``status`` moves only
    along rules/lifecycle.py's transitions, each written to :class:`ApplicationTransition`."""

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    """What people quote on the phone: ``F-2026-00042``."""
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    applicant: Mapped[str] = mapped_column(String(120), index=True)
    applicant_name: Mapped[str | None] = mapped_column(String(200))
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    product_kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    term_months: Mapped[int] = mapped_column(Integer)
    purpose: Mapped[str] = mapped_column(Text, default="")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    profile: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The company profile as it was at submission (None while a draft)."""
    reason: Mapped[str | None] = mapped_column(Text)
    accepted_offer_id: Mapped[str | None] = mapped_column(String(36))
    accepted_partner_org_id: Mapped[str | None] = mapped_column(String(64))
    """The partner whose offer was accepted, or the bureau that approved a subsidy (the rights'
    ``accepted_partner``)."""
    contract_number: Mapped[str | None] = mapped_column(String(64))
    contract_signed_on: Mapped[date | None] = mapped_column(Date)
    valuation_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    valuation_by: Mapped[str | None] = mapped_column(String(64))
    loan_to_value: Mapped[Decimal | None] = mapped_column(Numeric(7, 4))
    pledge_number: Mapped[str | None] = mapped_column(String(64))
    pledge_registered_on: Mapped[date | None] = mapped_column(Date)
    pledge_released_on: Mapped[date | None] = mapped_column(Date)
    submitted_at: Mapped[datetime | None] = mapped_column(TS)
    closed_at: Mapped[datetime | None] = mapped_column(TS)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)

    reviews: Mapped[list[Review]] = relationship(
        order_by="Review.routed_at", lazy="selectin", back_populates="application", passive_deletes=True
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_applications_status_product_id", "status", "product_id"),)

    @property
    def partner_org_ids(self) -> tuple[str, ...]:
        """The partners the application is routed to (the rights' ``routed_partner``), in the
        order they were: every one with a review, whatever its state."""
        return tuple(review.partner_org_id for review in self.reviews)


class ApplicationTransition(Chained, Base):
    """The audit trail: every change of an application's, a review's or an offer's state, who
    made it, when and why (``partner_org_id`` names the review or offer's partner)."""

    __tablename__ = "application_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(12))
    """``application``, ``review`` or ``offer``: which machine moved."""
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    partner_org_id: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(120))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(TS)


class ApplicationCounter(Base):
    """The last application number handed out per park year, taken under a row lock."""

    __tablename__ = "application_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class Review(Base):
    """One partner's review of an application routed to it (rules/lifecycle.py's review machine).
    ``requested`` is what an information request asks for (``{"document_types": [...],
    "questions": [...], "note": "..."}``); ``resume_status`` the state the review resumes in."""

    __tablename__ = "reviews"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    partner_org_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))
    requested: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    resume_status: Mapped[str | None] = mapped_column(String(20))
    decline_reason: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    routed_by: Mapped[str] = mapped_column(String(120))
    routed_at: Mapped[datetime] = mapped_column(TS)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(TS)

    application: Mapped[Application] = relationship(back_populates="reviews")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("application_id", "partner_org_id"),)


class Offer(Base):
    """A partner's offer (``kind`` offer) or a bureau's approval of a subsidy (``kind`` approval):
    amount, rate, term, repayment method, fees, conditions, expiry, and the all-in annual cost
    computed when it was made (rules/cost.py). Answered offers stay as they are."""

    __tablename__ = "offers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    review_id: Mapped[str] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    partner_org_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    annual_rate: Mapped[Decimal | None] = mapped_column(RATE)
    term_months: Mapped[int | None] = mapped_column(Integer)
    repayment_method: Mapped[str | None] = mapped_column(String(30))
    fees: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    conditions: Mapped[str | None] = mapped_column(Text)
    all_in_rate: Mapped[Decimal | None] = mapped_column(RATE)
    expires_at: Mapped[datetime | None] = mapped_column(TS)
    made_by: Mapped[str] = mapped_column(String(120))
    made_by_name: Mapped[str | None] = mapped_column(String(200))
    made_at: Mapped[datetime] = mapped_column(TS)
    answered_by: Mapped[str | None] = mapped_column(String(120))
    answered_at: Mapped[datetime | None] = mapped_column(TS)
    reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_offers_status_expires_at", "status", "expires_at"),)


# Documents and patents ----------------------------------------------------------------------------


class Document(Base):
    """A document of the checklist (``doc_type``), or one a partner asked for; type by content,
    safe name, bytes in the store under ``storage_key`` (as consulting's attachments)."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    doc_type: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(120))
    uploaded_by_name: Mapped[str | None] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(TS)
    review_id: Mapped[str | None] = mapped_column(String(36))
    """The review whose information request this document answers, if any."""


class DocumentBlob(Base):
    """The bytes of a document, when the store is the service's own database (the default)."""

    __tablename__ = "document_blobs"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Patent(Base):
    """A patent offered as security for an IP-pledge loan (rules/ip_pledge.py checks it)."""

    __tablename__ = "patents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    holder: Mapped[str] = mapped_column(String(200))
    granted_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    fees_paid_until: Mapped[date | None] = mapped_column(Date)
    existing_pledges: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("application_id", "number"),)


# Decisions and money paid -------------------------------------------------------------------------


class Decision(Chained, Base):
    """An immutable record of a decision (rules/decisions.py): its kind, who decided, when, and a
    snapshot of what was decided on with its digest. Never updated or deleted."""

    __tablename__ = "decisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    basis: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str] = mapped_column(String(120))
    decided_by_name: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(TS)


class Disbursement(Base):
    """A tranche paid out: recorded by one person (the maker), approved by another (the checker),
    and only then counted as paid (``status`` pending → approved)."""

    __tablename__ = "disbursements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    disbursed_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(12))
    recorded_by: Mapped[str] = mapped_column(String(120))
    recorded_by_name: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(TS)
    approved_by: Mapped[str | None] = mapped_column(String(120))
    approved_by_name: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None] = mapped_column(TS)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (UniqueConstraint("application_id", "number"),)


# Valuations asked of consulting ----------------------------------------------------------------


class ValuationRequest(Base):
    """A valuation of an IP-pledge application's patents, asked of consulting
    (``finance.ip_valuation.requested``, ``id`` is the request id consulting answers to).

    ``status``: requested (no answer yet), opened (consulting opened case ``case_number``),
    valued (``amount`` recorded on the application), failed (the case was cancelled or every firm
    declined: ``reason``), no_answer (consulting did not open a case in time). A failed or
    unanswered request is for the desk to act on: ask again (a new request) or record a valuation
    by hand."""

    __tablename__ = "valuation_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    appraiser_org_id: Mapped[str | None] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(36))
    case_number: Mapped[str | None] = mapped_column(String(20))
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(String(3))
    report_name: Mapped[str | None] = mapped_column(String(200))
    report_attachment_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(Text)
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_at: Mapped[datetime] = mapped_column(TS)
    answered_at: Mapped[datetime | None] = mapped_column(TS)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}
