"""E-mail: queue the e-mails of new notifications (``queue``, from the inbox); the worker sends them
(``send_due``, every 5 s). Nothing here commits.

- ``queue``: for each notification, the people it reaches (a user; the active members of an
  organisation, or those of them holding the role; a role park-wide such as ``desk_staff``) who
  have an e-mail address and have not turned e-mail off for that kind (``Preference.email``),
  one ``Email`` each, rendered in the person's language (rules/mail.py). Its ``dedupe_key`` is
  the event and the person, so an event handled twice, or a person reached by two of an event's
  notifications (the booker who is also an organisation admin), gets one e-mail.
- ``send_due``: a :class:`shared.service.Dispatch` job. It claims at most :data:`BATCH` due pending
  e-mails (PostgreSQL: ``FOR UPDATE SKIP LOCKED``) and leases them in one short unit of work, sends
  each through ``smtplib`` (STARTTLS and login when set) with no transaction open, and records
  what happened in a second one; so two workers never send one twice, and a slow server holds no
  lock of notify's (on SQLite, its write lock).
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
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from sqlalchemy import select, update

from services.notify.models import Email, Notification, Person, Preference
from services.notify.rules import mail as rules
from shared.clock import as_utc, utcnow
from shared.db import UnitOfWork
from shared.service import Dispatch, Lease, Sent
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


def message_of(email: Letter, settings: Settings) -> EmailMessage:
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


@dataclass(frozen=True)
class Letter:
    """A claimed e-mail as plain values (no row: it is sent with no transaction open)."""

    id: str
    to_address: str
    language: str
    subject_line: str
    text_body: str
    html_body: str
    due: datetime
    lease: Lease


@dataclass(frozen=True)
class Handed:
    """What one attempt got: ``error`` is None when the server took the e-mail."""

    error: str | None

    @property
    def timed_out(self) -> bool:
        return self.error is not None and self.error.startswith("timed out")


def claim(*, uow: UnitOfWork, settings: Settings, now: datetime, lease_until: datetime) -> list[Letter]:
    """Phase 1: at most :data:`BATCH` due pending e-mails (PostgreSQL: ``FOR UPDATE SKIP LOCKED``),
    leased until ``lease_until``. E-mail off: the due ones are marked ``skipped`` and none taken."""
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
        return []
    letters = []
    for email in uow.session.scalars(due_query):
        letters.append(
            Letter(
                email.id,
                email.to_address,
                email.language,
                email.subject_line,
                email.text_body,
                email.html_body,
                as_utc(email.next_attempt_at),
                Lease.take(email, lease_until),
            )
        )
    uow.session.flush()
    return letters


def send(letter: Letter, settings: Settings) -> Handed:
    """Phase 2: hand ``letter`` to the server within ``smtp_timeout_seconds`` (the exchange runs in
    a thread this stops waiting for); never raises."""
    if not _recipient_ok(letter.to_address):
        return Handed(f"invalid address {letter.to_address!r}")
    timeout = settings.smtp_timeout_seconds
    late = f"timed out after {timeout:g} s talking to {settings.smtp_host}:{settings.smtp_port}"
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notify-smtp")
    try:
        future = pool.submit(smtp_send, message_of(letter, settings), settings)
        future.result(timeout=timeout)
    except FutureTimeout:
        return Handed(late)
    except (OSError, smtplib.SMTPException) as exc:  # refused, reset, timed out, answered 4xx/5xx
        return Handed(late if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # noqa: BLE001 - a message that cannot be built is that e-mail's failure
        return Handed(f"{type(exc).__name__}: {exc}")
    finally:
        pool.shutdown(wait=False)
    return Handed(None)


def record(sent: Sequence[Sent[Letter, Handed]], *, uow: UnitOfWork, settings: Settings, now: datetime) -> int:
    """Phase 3: each e-mail re-read by id; one no longer under this run's lease is left alone.
    Sent: ``sent``. Failed: tried again on the schedule (rules/mail.py), then ``failed``; an address
    that is not one fails at once. Not sent this run: due again at once. Answers how many were sent."""
    done = 0
    for letter, handed in ((s.item, s.result) for s in sent):
        email = uow.session.get(Email, letter.id, with_for_update=True)
        if email is None or email.status != PENDING or not letter.lease.holds(email):
            continue
        if handed is None:
            email.next_attempt_at = letter.due
            continue
        email.attempts += 1
        if handed.error is None:
            email.status, email.sent_at, email.last_error = SENT, now, None
            done += 1
            continue
        email.last_error = handed.error[:2000]
        retry = rules.next_attempt(email.attempts, now)
        if retry is None or handed.error.startswith("invalid address"):
            email.status = FAILED
        else:
            email.next_attempt_at = retry
    uow.session.flush()
    return done


def sender(budget_seconds: float = BUDGET_SECONDS) -> Dispatch[Letter, Handed]:
    """The e-mail job: one e-mail after another, starting no new one once that could take the run
    past ``budget_seconds``, and none after a time-out (a server that slow would hold each as long)."""

    def keep_sending(results: Sequence[Handed], elapsed: float, settings: Settings) -> bool:
        return not results[-1].timed_out and elapsed + settings.smtp_timeout_seconds <= budget_seconds

    return Dispatch("send_due", claim, send, record, keep_sending=keep_sending)


send_due = sender()
"""Send the e-mails that are due (the worker's job, every 5 s): :func:`claim`, :func:`send`,
:func:`record` run by the kernel (``shared.service.Dispatch``)."""
