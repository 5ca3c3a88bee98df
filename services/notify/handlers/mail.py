"""E-mail: queue the e-mails of new notifications (``queue``, from the inbox); the worker sends them
(``send_due``, every 5 s). Nothing here commits.

- ``queue``: for each notification, the people it reaches (a user; the active members of an
  organisation, or those of them holding the role; a role park-wide such as ``desk_staff``) who
  have an e-mail address and have not turned e-mail off for that kind (``Preference.email``),
  one ``Email`` each, rendered in the person's language (rules/mail.py). Its ``dedupe_key`` is
  the event and the person, so an event handled twice, or a person reached by two of an event's
  notifications (the booker who is also an organisation admin), gets one e-mail.
- ``send_due``: at most :data:`BATCH` due pending e-mails (PostgreSQL: ``FOR UPDATE SKIP LOCKED``,
  so two workers never send one twice), each through ``smtplib`` (STARTTLS and login when set).
  Sent: ``sent``. Refused or unreachable: tried again after 1 min, 5 min, 30 min, 2 h, then
  ``failed``, with ``last_error``. Each e-mail's whole exchange with the server is bounded by
  ``smtp_timeout_seconds``, and a run starts no new e-mail once that could take it past
  :data:`BUDGET_SECONDS`: a slow or dead server only delays the job, never the consumers.
- E-mail off (no ``smtp_host``): the due e-mails are marked ``skipped``, so switching e-mail on
  later does not send a backlog of stale news.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import select, update

from services.notify.models import Email, Notification, Person, Preference
from services.notify.rules import mail as rules
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.settings import Settings

BATCH = 50
"""E-mails one run takes (and holds) at most."""
BUDGET_SECONDS = 20.0
"""A run starts no new e-mail once that could take it past this."""

PENDING, SENT, FAILED, SKIPPED = "pending", "sent", "failed", "skipped"


# Queueing (in the consumer's transaction) --------------------------------------------------------


def email_key(event_id: str, subject: str) -> str:
    """The key an e-mail is unique by: one per event and person."""
    key = f"{event_id}:mail:{subject}"
    return key if len(key) <= 200 else f"{event_id}:mail:sha256:{hashlib.sha256(subject.encode()).hexdigest()}"


def reached(notification: Notification, people: Iterable[Person]) -> list[Person]:
    """Who of ``people`` (active, with an address) ``notification`` reaches."""
    found = []
    for person in people:
        if notification.recipient_user is not None:
            hit = person.subject == notification.recipient_user
        elif notification.recipient_org_id is not None:
            hit = person.org_id == notification.recipient_org_id and (
                notification.recipient_role is None or notification.recipient_role in (person.roles or [])
            )
        else:
            hit = notification.recipient_role is not None and notification.recipient_role in (person.roles or [])
        if hit:
            found.append(person)
    return found


def _candidates(notifications: Sequence[Notification], uow: UnitOfWork) -> list[Person]:
    """The active people with an address whom any of ``notifications`` may reach, in one query."""
    users = {n.recipient_user for n in notifications if n.recipient_user is not None}
    orgs = {n.recipient_org_id for n in notifications if n.recipient_user is None and n.recipient_org_id}
    park_wide = any(n.recipient_user is None and n.recipient_org_id is None for n in notifications)
    query = select(Person).where(Person.active.is_(True), Person.email.is_not(None), Person.email != "")
    if not park_wide:  # a role park-wide is checked in Python: roles are a JSON list
        query = query.where(Person.subject.in_(users) | Person.org_id.in_(orgs))
    return list(uow.session.scalars(query.order_by(Person.subject)))


def queue(notifications: Sequence[Notification], *, uow: UnitOfWork) -> None:
    """Queue an e-mail per person the ``notifications`` reach who wants that kind by e-mail."""
    if not notifications:
        return
    people = _candidates(notifications, uow)
    if not people:
        return
    subjects = [p.subject for p in people]
    opted_out = {
        (row.subject, row.kind)
        for row in uow.session.scalars(
            select(Preference).where(Preference.subject.in_(subjects), Preference.email.is_(False))
        )
    }
    wanted: dict[str, tuple[Notification, Person]] = {}
    for notification in notifications:
        for person in reached(notification, people):
            if (person.subject, notification.kind) in opted_out:
                continue
            wanted.setdefault(email_key(notification.event_id, person.subject), (notification, person))
    if not wanted:
        return
    existing = set(uow.session.scalars(select(Email.dedupe_key).where(Email.dedupe_key.in_(list(wanted)))))
    now = utcnow()
    for key, (notification, person) in wanted.items():
        if key in existing:
            continue
        language = rules.language_of(person.language)
        letter = rules.compose(
            language=language,
            name=person.display_name,
            kind=notification.kind,
            title=notification.title_zh if language == "zh" else notification.title_en,
            body=notification.body_zh if language == "zh" else notification.body_en,
        )
        uow.session.add(
            Email(
                id=str(uuid.uuid4()),
                dedupe_key=key,
                notification_id=notification.id,
                to_subject=person.subject,
                to_address=str(person.email),
                language=language,
                subject_line=letter.subject,
                text_body=letter.text,
                html_body=letter.html,
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                last_error=None,
                created_at=now,
                sent_at=None,
            )
        )
    uow.session.flush()


# Sending (the worker's job) ----------------------------------------------------------------------


def message_of(email: Email, settings: Settings) -> EmailMessage:
    """The MIME message of ``email``: plain text with an HTML alternative, UTF-8 headers."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = email.to_address
    message["Subject"] = email.subject_line
    message["Date"] = format_datetime(utcnow())
    domain = parseaddr(settings.smtp_from)[1].rpartition("@")[2] or "parkhub.local"
    message["Message-ID"] = f"<{email.id}@{domain}>"  # the same on every attempt: receivers may dedupe
    message.set_content(email.text_body)
    message.add_alternative(email.html_body, subtype="html")
    message["Content-Language"] = "zh-CN" if email.language == "zh" else "en"  # after: set_content drops Content-*
    return message


def smtp_send(message: EmailMessage, settings: Settings) -> None:
    """Hand ``message`` to the SMTP server of ``settings``; raises on any failure."""
    host = settings.smtp_host
    assert host is not None
    with smtplib.SMTP(host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(message)


def _recipient_ok(address: str) -> bool:
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError, TypeError):
        return False
    return True


def send_due(
    *,
    uow: UnitOfWork,
    settings: Settings | None = None,
    now: datetime | None = None,
    budget_seconds: float | None = None,
) -> int:
    """Send the e-mails that are due (a job of the worker); how many were sent. ``settings``: the
    process's (from the environment) unless given; ``now``: the clock's."""
    settings = settings or Settings.from_env()
    clock = now
    now = now or utcnow()
    due_query = (
        select(Email)
        .where(Email.status == PENDING, Email.next_attempt_at <= now)
        .order_by(Email.next_attempt_at, Email.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    if settings.smtp_host is None:
        due_ids = list(uow.session.scalars(due_query.with_only_columns(Email.id)))
        if due_ids:
            uow.session.execute(
                update(Email)
                .where(Email.id.in_(due_ids))
                .values(status=SKIPPED, last_error="e-mail is off (no SMTP host)")
            )
        return 0
    due = list(uow.session.scalars(due_query))
    if not due:
        return 0
    budget = BUDGET_SECONDS if budget_seconds is None else budget_seconds
    timeout = settings.smtp_timeout_seconds
    started = time.monotonic()
    sent = 0
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notify-smtp")
    try:
        for number, email in enumerate(due):
            if number and time.monotonic() - started + timeout > budget:
                break  # the rest wait for the next run
            error = _attempt(pool, email, settings, timeout)
            if error is None:
                email.status, email.sent_at, email.last_error = SENT, clock or utcnow(), None
                email.attempts += 1
                sent += 1
                continue
            email.attempts += 1
            email.last_error = error[:2000]
            retry = rules.next_attempt(email.attempts, clock or utcnow())
            if retry is None or error.startswith("invalid address"):
                email.status = FAILED
            else:
                email.next_attempt_at = retry
            if error.startswith("timed out"):
                break  # a server this slow would hold every next one as long
    finally:
        pool.shutdown(wait=False)
    uow.session.flush()
    return sent


def _attempt(pool: ThreadPoolExecutor, email: Email, settings: Settings, timeout: float) -> str | None:
    """Send ``email`` within ``timeout`` seconds; None when sent, else why not."""
    if not _recipient_ok(email.to_address):
        return f"invalid address {email.to_address!r}"
    message = message_of(email, settings)
    future = pool.submit(smtp_send, message, settings)
    try:
        future.result(timeout=timeout)
    except FutureTimeout:
        return f"timed out after {timeout:g} s talking to {settings.smtp_host}:{settings.smtp_port}"
    except (OSError, smtplib.SMTPException) as exc:  # refused, reset, timed out, answered 4xx/5xx
        if isinstance(exc, TimeoutError):
            return f"timed out after {timeout:g} s talking to {settings.smtp_host}:{settings.smtp_port}"
        return f"{type(exc).__name__}: {exc}"
    return None
