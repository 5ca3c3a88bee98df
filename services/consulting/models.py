"""Consulting's tables: the catalogue (categories, service items, the firms serving each category),
the business calendar, cases with their audit trail, messages and attachments, quotes, ratings and
the SLA clocks; ``TABLES`` adds the messaging tables and the organisation directory every service
database holds.

Times are stored in UTC (:class:`shared.db.UtcDateTime`). Texts a person reads in the catalogue
are kept in both of the park's languages (``name`` and ``name_zh``). Identifiers are UUID strings.
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
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.audit import Chained, define_chain_heads
from shared.db import UtcDateTime, metadata
from shared.service import service_tables

NAME = "consulting"

MONEY = Numeric(12, 2)
TS = UtcDateTime()


class Base(DeclarativeBase):
    metadata = metadata()


TABLES = service_tables(NAME, Base.metadata)
AUDIT_HEADS = define_chain_heads(Base.metadata)
directory = TABLES.directory
database = TABLES.database


# The catalogue ------------------------------------------------------------------------------------


class Category(Base):
    """An area of professional services (``legal``, ``intellectual_property``, ``biomedical``…),
    with the rule that routes its triaged cases to a firm: ``manual`` (the desk assigns),
    ``round_robin`` (the next firm after ``last_routed_firm`` in a fixed order) or ``least_load``
    (the firm with the fewest open cases)."""

    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    routing: Mapped[str] = mapped_column(String(20), default="manual")
    last_routed_firm: Mapped[str | None] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(TS)

    __mapper_args__ = {"version_id_col": version}


class ServiceItem(Base):
    """A service a tenant can ask for in a category ("patent application", "CDMO sourcing").

    ``intake_fields`` is the form a case of this item answers: a list of
    ``{"code", "label", "label_zh", "type", "required", ...}`` (rules/intake.py checks both the
    definition and the answers). ``fee_guidance``/``fee_guidance_zh`` say what it usually costs;
    ``fee_from``/``fee_to`` (CNY) bound it where the park publishes a range. ``quote_required``:
    paid work waits for an accepted quote. ``sla_policy`` holds the targets in business minutes
    per priority and clock, and the share of a target at which a warning goes out::

        {"warn_share": "0.8",
         "targets": {"normal": {"tenant": {"first_response": 240, "resolution": 7200},
                                "firm": {"first_response": 480, "resolution": 6720}}, ...}}
    """

    __tablename__ = "service_items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), index=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_zh: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    intake_fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    fee_guidance: Mapped[str] = mapped_column(Text, default="")
    fee_guidance_zh: Mapped[str] = mapped_column(Text, default="")
    fee_from: Mapped[Decimal | None] = mapped_column(MONEY)
    fee_to: Mapped[Decimal | None] = mapped_column(MONEY)
    quote_required: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(TS)

    __mapper_args__ = {"version_id_col": version}


class FirmCategory(Base):
    """A partner firm (an organisation of the directory) declares that it serves a category."""

    __tablename__ = "firm_categories"

    firm_org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"), primary_key=True)
    declared_by: Mapped[str] = mapped_column(String(120))
    declared_at: Mapped[datetime] = mapped_column(TS)

    __table_args__ = (Index("ix_firm_categories_category_code", "category_code"),)


# The business calendar ----------------------------------------------------------------------------


class CalendarSettings(Base):
    """The one row of the business calendar's weekly working hours (``id`` is always 1):
    ``hours`` maps a weekday ``"0"``–``"6"`` (Monday first) to its periods ``[["09:00", "12:00"],
    ["13:30", "18:00"]]`` in park time."""

    __tablename__ = "calendar_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hours: Mapped[dict[str, list[list[str]]]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[datetime] = mapped_column(TS)

    __mapper_args__ = {"version_id_col": version}


class CalendarYear(Base):
    """A year whose public holidays and make-up working days the calendar holds, and where they
    came from: ``chinesecalendar`` (the official schedule) or ``manual`` (park admin typed it in
    before the source caught up). A year without a row runs on the weekly hours alone."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(20))
    loaded_by: Mapped[str] = mapped_column(String(120))
    loaded_at: Mapped[datetime] = mapped_column(TS)
    version: Mapped[int] = mapped_column(Integer, server_default="1", default=1)
    """Bumped by every replacement of the year's days: the ETag a change names in ``If-Match``."""

    __mapper_args__ = {"version_id_col": version}


class CalendarDay(Base):
    """A public holiday (``holiday``) or a make-up working day on a weekend (``workday``)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_years.year", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(100))


# Cases --------------------------------------------------------------------------------------------


class Case(Base):
    """A tenant's request for a professional service: the subject of the rights table
    (``org_id``, ``submitted_by``, ``firm_org_id``). ``status`` moves only along
    rules/lifecycle.py's transitions, each written to :class:`CaseTransition`."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    """What people quote on the phone: ``C-2026-00042``."""
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    submitted_by: Mapped[str] = mapped_column(String(120), index=True)
    submitted_by_name: Mapped[str | None] = mapped_column(String(200))
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    item_id: Mapped[str] = mapped_column(ForeignKey("service_items.id"))
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    quote_required: Mapped[bool] = mapped_column(Boolean, server_default=text("false"), default=False)
    """The item's ``quote_required`` when the case was submitted: a later change of the catalogue
    neither lets paid work start without the tenant's yes nor blocks a case already accepted."""
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), index=True)
    firm_org_id: Mapped[str | None] = mapped_column(String(64), index=True)
    declined_by: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Firms that declined this case: the routing rule does not hand it to them again."""
    reason: Mapped[str | None] = mapped_column(Text)
    """The reason of the last transition that had one (decline, wait, reject, cancel)."""
    submitted_at: Mapped[datetime] = mapped_column(TS)
    assigned_at: Mapped[datetime | None] = mapped_column(TS)
    solution: Mapped[str | None] = mapped_column(Text)
    solution_proposed_at: Mapped[datetime | None] = mapped_column(TS)
    closed_at: Mapped[datetime | None] = mapped_column(TS)
    origin: Mapped[str | None] = mapped_column(String(20))
    """The service that opened the case on the tenant's behalf (``finance`` for an IP valuation),
    None for a case the tenant submitted."""
    origin_ref: Mapped[str | None] = mapped_column(String(64))
    """The request of ``origin`` the case answers (finance's valuation request id): one case each."""
    origin_subject: Mapped[str | None] = mapped_column(String(64))
    """What the request is about in ``origin`` (the financing application's id)."""
    valuation_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    valuation_currency: Mapped[str | None] = mapped_column(String(3))
    valuation_report_id: Mapped[str | None] = mapped_column(String(36))
    """The attachment holding the appraisal report of a valuation case."""
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    """The saga's correlation id when another service opened the case (finance's valuation
    request): every step of that saga is published under it, whoever takes the step."""
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(TS)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_cases_status_category_code", "status", "category_code"),
        UniqueConstraint("origin", "origin_ref", name="uq_cases_origin_origin_ref"),
    )


class CaseTransition(Chained, Base):
    """The audit trail: every change of a case's state (and its submission, assignment to
    another firm, escalation of priority), who made it, when and why."""

    __tablename__ = "case_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(120))
    actor_name: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(TS)


class CasePause(Base):
    """A time the SLA clocks stood still: the case waited on the tenant (``ends_at`` None: it
    still does) or on the tenant's answer to a solution that was then rejected."""

    __tablename__ = "case_pauses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(TS)
    ends_at: Mapped[datetime | None] = mapped_column(TS)


class SlaClock(Base):
    """One target of one clock of a case: the tenant's (the park's promise, from submission) or
    the firm's (its commitment, from assignment), for the first response or the resolution.

    The target is copied from the item's policy when the clock starts, so a later change of the
    policy does not move running clocks. ``met_at`` is when the target was met (None: running);
    ``stopped_at`` ends a clock that no longer counts (the firm declined or was replaced, the case
    was cancelled). ``warned_at``/``breached_at`` record the breach job's findings."""

    __tablename__ = "sla_clocks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    clock: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(20))
    firm_org_id: Mapped[str | None] = mapped_column(String(64))
    target_minutes: Mapped[int] = mapped_column(Integer)
    warn_share: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    started_at: Mapped[datetime] = mapped_column(TS)
    met_at: Mapped[datetime | None] = mapped_column(TS)
    stopped_at: Mapped[datetime | None] = mapped_column(TS)
    warned_at: Mapped[datetime | None] = mapped_column(TS)
    breached_at: Mapped[datetime | None] = mapped_column(TS)

    __table_args__ = (Index("ix_sla_clocks_running", "met_at", "stopped_at"),)


class SlaNotice(Base):
    """Each SLA event the breach job published, once: the primary key (clock row and kind) makes
    a second run, or two at once, insert nothing and publish nothing."""

    __tablename__ = "sla_notices"

    clock_id: Mapped[int] = mapped_column(ForeignKey("sla_clocks.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    """``warning`` or ``breach``."""
    at: Mapped[datetime] = mapped_column(TS)


# Messages and attachments -------------------------------------------------------------------------


class Message(Base):
    """A message in a case's thread, visible to the tenant (``tenant``), internal to the desk
    (``desk``) or internal to the firm (``firm``): permissions.MESSAGE_RIGHTS."""

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    visibility: Mapped[str] = mapped_column(String(10))
    body: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(120))
    author_name: Mapped[str | None] = mapped_column(String(200))
    author_org_id: Mapped[str] = mapped_column(String(64))
    author_side: Mapped[str] = mapped_column(String(10))
    """``tenant``, ``firm`` or ``park``: whose words these are, as the thread shows them."""
    notice: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """A message the service wrote itself (the breach job's note to the desk), as a code and its
    values, so that each reader reads it in their language; ``body`` keeps the English for logs.
    ``{"kind": "sla_breached", "clock": "firm", "target": "first_response", "target_minutes": 120}``."""
    created_at: Mapped[datetime] = mapped_column(TS)

    __table_args__ = (Index("ix_messages_case_id_created_at", "case_id", "created_at"),)


class Attachment(Base):
    """A file on a message. ``content_type`` is what its bytes are (sniffed), never what its name
    says; ``filename`` is made safe; the bytes are in the store under ``storage_key``."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage: Mapped[str] = mapped_column(String(20))
    storage_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(TS)


class AttachmentBlob(Base):
    """The bytes of an attachment, when the store is the service's own database (the default)."""

    __tablename__ = "attachment_blobs"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


# Quotes and ratings -------------------------------------------------------------------------------


class Quote(Base):
    """A firm's fee for a case (CNY), answered by the tenant: ``proposed`` → ``accepted`` or
    ``rejected``; a newer proposal supersedes one still unanswered."""

    __tablename__ = "quotes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    firm_org_id: Mapped[str] = mapped_column(String(64))
    fee: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(12))
    proposed_by: Mapped[str] = mapped_column(String(120))
    proposed_by_name: Mapped[str | None] = mapped_column(String(200))
    proposed_at: Mapped[datetime] = mapped_column(TS)
    answered_by: Mapped[str | None] = mapped_column(String(120))
    answered_by_name: Mapped[str | None] = mapped_column(String(200))
    answered_at: Mapped[datetime | None] = mapped_column(TS)
    reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class Rating(Base):
    """The tenant's 1–5 stars for a closed case, once (the case is the key)."""

    __tablename__ = "ratings"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    stars: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    firm_org_id: Mapped[str | None] = mapped_column(String(64))
    rated_by: Mapped[str] = mapped_column(String(120))
    rated_by_name: Mapped[str | None] = mapped_column(String(200))
    rated_at: Mapped[datetime] = mapped_column(TS)


class CaseCounter(Base):
    """The last case number handed out per year (``C-2026-00042``), taken under a row lock."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


# Meetings ----------------------------------------------------------------------------------------


class Meeting(Base):
    """A meeting the tenant or the firm asked for on a case, and the room booking holds for it.

    Consulting asks booking with ``booking.room_hold.requested`` (``request_id``; a retry after no
    answer asks again under a new one) and follows booking's answer: ``status`` is requested,
    pending_approval (the room waits for the desk), confirmed (``reservation_id``, the space),
    rejected (``rule`` and the nearest free ``alternatives``), no_answer (booking did not answer in
    time; staff may retry or cancel), cancelled (by a person, or the case's cancellation, which
    releases the room)."""

    __tablename__ = "meetings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    requested_by: Mapped[str] = mapped_column(String(120))
    requested_by_name: Mapped[str | None] = mapped_column(String(200))
    requested_by_org_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(TS)
    ends_at: Mapped[datetime] = mapped_column(TS)
    attendees: Mapped[int] = mapped_column(Integer)
    needs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """What the room must offer: ``space_kind``, ``layout``, ``equipment``, ``note``."""
    status: Mapped[str] = mapped_column(String(20), index=True)
    reservation_id: Mapped[str | None] = mapped_column(String(36))
    space_name: Mapped[str | None] = mapped_column(String(200))
    space_name_zh: Mapped[str | None] = mapped_column(String(200))
    rule: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(Text)
    alternatives: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    requested_at: Mapped[datetime] = mapped_column(TS)
    answered_at: Mapped[datetime | None] = mapped_column(TS)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(TS)

    __mapper_args__ = {"version_id_col": version}
