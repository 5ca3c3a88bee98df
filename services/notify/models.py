"""Notify's tables: the people it writes to (fed by identity's user events), each notification
with the recipient it was addressed to and who has read it, preferences per person and kind of
notice, e-mails waiting for the SMTP server, partner webhook endpoints with their deliveries and
attempts, and each organisation's timeline. ``TABLES`` adds the messaging tables and the
organisation directory every service database holds.

Texts a person reads are stored in both of the park's languages when they are written (``*_en``,
``*_zh``), so a reader's language is chosen when the feed is read. Times are UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import UtcDateTime, metadata
from shared.service import service_tables

NAME = "notify"

TS = UtcDateTime()
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = metadata()


TABLES = service_tables(NAME, Base.metadata)
directory = TABLES.directory
database = TABLES.database


# People ------------------------------------------------------------------------------------------


class Person(Base):
    """A user as notify knows them from ``identity.user.*``: where to write and in which language.
    ``subject`` is the token's subject, the name events carry (``booked_by``, ``applicant``)."""

    __tablename__ = "people"

    subject: Mapped[str] = mapped_column(String(120), primary_key=True)
    user_id: Mapped[str | None] = mapped_column(String(36))
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str | None] = mapped_column(String(5))
    """The language the person chose in ``/preferences`` (``zh`` or ``en``); None: not chosen, the
    park's default (Chinese) is used for e-mail, and the request's ``Accept-Language`` in the feed."""
    updated_at: Mapped[datetime] = mapped_column(TS)


class Preference(Base):
    """Whether a person wants a kind of notice in the feed and by e-mail (no row: both yes)."""

    __tablename__ = "preferences"

    subject: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(TS)


# The feed ----------------------------------------------------------------------------------------


class Notification(Base):
    """One notice to one recipient of rules/recipients.py: a user (``recipient_user``), every
    member of an organisation (``recipient_org_id``), or the holders of a role within an
    organisation or park-wide (``recipient_role``). ``dedupe_key`` (event, recipient) makes an
    event delivered twice one notification."""

    __tablename__ = "notifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    event_id: Mapped[str] = mapped_column(String(36), index=True)
    event_type: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    audience: Mapped[str] = mapped_column(String(40))
    recipient_user: Mapped[str | None] = mapped_column(String(120))
    recipient_org_id: Mapped[str | None] = mapped_column(String(64))
    recipient_role: Mapped[str | None] = mapped_column(String(40))
    org_id: Mapped[str | None] = mapped_column(String(64))
    """The organisation the event is about (the tenant), for staff reading a feed."""
    subject_id: Mapped[str | None] = mapped_column(String(64))
    """The reservation, case or application the notice is about."""
    title_en: Mapped[str] = mapped_column(String(300))
    title_zh: Mapped[str] = mapped_column(String(300))
    body_en: Mapped[str] = mapped_column(Text)
    body_zh: Mapped[str] = mapped_column(Text)
    correlation_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(TS)

    __table_args__ = (
        Index("ix_notifications_recipient_user_created_at", "recipient_user", "created_at"),
        Index("ix_notifications_recipient_org_id_role", "recipient_org_id", "recipient_role"),
        Index("ix_notifications_recipient_role_created_at", "recipient_role", "created_at"),
    )


class NotificationRead(Base):
    """That ``reader`` has read a notification (a notification to many is read by each alone)."""

    __tablename__ = "notification_reads"

    notification_id: Mapped[str] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True)
    reader: Mapped[str] = mapped_column(String(120), primary_key=True, index=True)
    read_at: Mapped[datetime] = mapped_column(TS)


# E-mail ------------------------------------------------------------------------------------------


class Email(Base):
    """An e-mail to one person, rendered in their language when the event was handled and sent
    later by the worker (the consumer never waits for the SMTP server). ``status``: pending, sent,
    failed (after the last attempt)."""

    __tablename__ = "emails"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    notification_id: Mapped[str | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    to_subject: Mapped[str] = mapped_column(String(120))
    to_address: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5))
    subject_line: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(TS)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TS)
    sent_at: Mapped[datetime | None] = mapped_column(TS)

    __table_args__ = (Index("ix_emails_status_next_attempt_at", "status", "next_attempt_at"),)


# Partner webhooks --------------------------------------------------------------------------------


class WebhookEndpoint(Base):
    """A partner's endpoint (rules/endpoints.py) and the event types it chose. While a rotation is
    recent (``secret_rotated_at``), deliveries are signed with ``previous_secret`` as well.
    ``status``: active or disabled (by its owner, by a 410, or after repeated failure:
    ``disabled_reason``)."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(300))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(120))
    previous_secret: Mapped[str | None] = mapped_column(String(120))
    secret_rotated_at: Mapped[datetime | None] = mapped_column(TS)
    status: Mapped[str] = mapped_column(String(10))
    disabled_reason: Mapped[str | None] = mapped_column(String(40))
    disabled_at: Mapped[datetime | None] = mapped_column(TS)
    failing_since: Mapped[datetime | None] = mapped_column(TS)
    """When the current run of failed deliveries began (None after a delivered one)."""
    failed_in_a_row: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}


class WebhookDelivery(Base):
    """One event for one endpoint: ``id`` is the ``webhook-id`` (the same on every attempt and
    replay), ``payload`` the body as sent (filtered for that partner). ``status``: pending,
    delivered, failed (attempts spent), gone (410)."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(TS)
    last_attempt_at: Mapped[datetime | None] = mapped_column(TS)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(TS)
    created_at: Mapped[datetime] = mapped_column(TS)

    __table_args__ = (
        UniqueConstraint("endpoint_id", "event_id"),
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_endpoint_id_created_at", "endpoint_id", "created_at"),
    )


class WebhookAttempt(Base):
    """One HTTP request of a delivery: what the endpoint answered, or why there was no answer."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    replay: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(TS)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str | None] = mapped_column(String(120))
    """Who asked for a replay (None for the worker's attempts)."""


# The timeline ------------------------------------------------------------------------------------


class TimelineEntry(Base):
    """Something that happened to an organisation in any service, once per event, in both
    languages. Ordered by ``at`` (the event's time), then ``id``."""

    __tablename__ = "timeline_entries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    org_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(TS)
    event_type: Mapped[str] = mapped_column(String(120))
    service: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[str | None] = mapped_column(String(64))
    title_en: Mapped[str] = mapped_column(String(300))
    title_zh: Mapped[str] = mapped_column(String(300))
    correlation_id: Mapped[str | None] = mapped_column(String(128))

    __table_args__ = (Index("ix_timeline_entries_org_id_at", "org_id", "at"),)
