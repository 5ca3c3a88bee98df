"""Partner webhooks: queue an event's deliveries (``enqueue``, from the inbox); the worker delivers
them (``deliver_due``, every 5 s); a partner replays one from its log (``prepare_replay``, the
request, ``record_replay``).

- A delivery per ACTIVE endpoint whose organisation may receive the event
  (rules/recipients.partner_may_receive) and whose patterns match its type; its id (``msg_`` + a
  time-ordered random id) is the ``webhook-id`` of every attempt and replay; one per endpoint and
  event (an event handled twice queues nothing new). Its payload is what that partner may see
  (rules/payloads.py), stored as it is sent.
- ``deliver_due`` (a :class:`shared.service.Dispatch` job) claims at most :data:`BATCH` due
  deliveries of active endpoints (PostgreSQL: ``FOR UPDATE SKIP LOCKED``) and leases them in one
  short unit of work, so two workers never send the same one; sends them concurrently with no
  transaction open (at most :data:`MAX_CONCURRENT` requests: a slow partner delays nobody else,
  and holds no lock of notify's); and records each attempt in a second unit of work; what an
  answer means and when to try again is rules/deliveries.py's.
- An endpoint answering 410, or failing repeatedly (``FailureRun``), is disabled, and its
  organisation told by a notification in its feed (:func:`tell_owner`).
Nothing here commits.
"""

from __future__ import annotations

import logging
import secrets as _random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from services.notify.commands.webhooks import PrepareReplay, RecordReplay
from services.notify.handlers import sending
from services.notify.models import Notification, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from services.notify.queries.webhooks import attempt_view, delivery_detail, load_delivery, load_endpoint
from services.notify.rules import deliveries as schedule
from services.notify.rules.endpoints import matches
from services.notify.rules.notices import WEBHOOK
from services.notify.rules.payloads import PARTNER_EVENT_TYPES, payload
from services.notify.rules.recipients import partner_may_receive, partner_organisations
from services.notify.rules.signing import Secrets
from shared.clock import as_utc, utcnow
from shared.db import UnitOfWork
from shared.errors import Conflict
from shared.events import Event
from shared.i18n import Message, _
from shared.metrics import WEBHOOK_DELIVERIES
from shared.service import Dispatch, Lease, Sent
from shared.settings import Settings

log = logging.getLogger(__name__)

BATCH = 20
"""Deliveries one run takes (and holds) at most."""
MAX_CONCURRENT = 8
"""Requests in flight at once."""
NOTICE_KIND = WEBHOOK
NOTICE_AUDIENCE = "partner"
DISABLED_EVENT_TYPE = "notify.webhook_endpoint.disabled"


def delivery_id(now: datetime) -> str:
    """``msg_`` + 12 hex digits of the time in ms + 20 random hex digits (36 characters): ids
    sort by creation, and cannot be guessed."""
    return f"msg_{int(now.timestamp() * 1000):012x}{_random.token_hex(10)}"


def enqueue(event: Event, *, uow: UnitOfWork) -> None:
    """A delivery per active endpoint that subscribed to ``event``'s type and whose organisation
    may receive it (rules/recipients.partner_may_receive), with the payload that partner may see."""
    if event.type not in PARTNER_EVENT_TYPES:
        return
    organisations = partner_organisations(event.type, event.data)
    if not organisations:
        return
    endpoints = uow.session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.org_id.in_(sorted(organisations)), WebhookEndpoint.status == "active")
        .order_by(WebhookEndpoint.id)
    ).all()
    if not endpoints:
        return
    queued = set(
        uow.session.scalars(
            select(WebhookDelivery.endpoint_id).where(
                WebhookDelivery.event_id == event.id, WebhookDelivery.endpoint_id.in_([e.id for e in endpoints])
            )
        )
    )
    now = utcnow()
    for endpoint in endpoints:
        if endpoint.id in queued or not any(matches(pattern, event.type) for pattern in endpoint.event_types):
            continue
        if not partner_may_receive(event.type, event.data, endpoint.org_id):
            continue
        body = payload(
            event_id=event.id,
            event_type=event.type,
            source=event.source,
            time=event.time,
            subject=event.subject,
            data=event.data,
            org_id=endpoint.org_id,
        )
        uow.session.add(
            WebhookDelivery(
                id=delivery_id(now),
                endpoint_id=endpoint.id,
                event_id=event.id,
                event_type=event.type,
                payload=body,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    uow.session.flush()


def keys_of(endpoint: WebhookEndpoint) -> Secrets:
    return Secrets(
        endpoint.secret,
        endpoint.previous_secret,
        as_utc(endpoint.secret_rotated_at) if endpoint.secret_rotated_at else None,
    )


def request_of(delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> sending.Request:
    return sending.Request(delivery.id, endpoint.url, dict(delivery.payload), keys_of(endpoint))


# The owner is told -------------------------------------------------------------------------------


def _disabled_texts(endpoint: WebhookEndpoint, reason: str) -> tuple[Message, Message]:
    title = _("Webhook endpoint disabled")
    if reason == "gone":
        body = _(
            "Your webhook endpoint {url} answered 410 Gone, so nothing more is sent to it. "
            "Enable it again when it receives deliveries.",
            url=endpoint.url,
        )
    else:
        body = _(
            "Your webhook endpoint {url} was disabled after {count} deliveries in a row failed. "
            "Deliveries wait until you enable it again.",
            url=endpoint.url,
            count=endpoint.failed_in_a_row,
        )
    return title, body


def tell_owner(endpoint: WebhookEndpoint, reason: str, at: datetime, *, uow: UnitOfWork) -> Notification:
    """A notification to every member of the endpoint's organisation that it was disabled."""
    title, body = _disabled_texts(endpoint, reason)
    notification = Notification(
        id=str(uuid.uuid4()),
        dedupe_key=f"webhook-disabled:{endpoint.id}:{at.isoformat()}"[:200],
        event_id=str(uuid.uuid4()),
        event_type=DISABLED_EVENT_TYPE,
        kind=NOTICE_KIND,
        audience=NOTICE_AUDIENCE,
        recipient_user=None,
        recipient_org_id=endpoint.org_id,
        recipient_role=None,
        org_id=endpoint.org_id,
        subject_id=endpoint.id,
        title_en=title.render("en"),
        title_zh=title.render("zh"),
        body_en=body.render("en"),
        body_zh=body.render("zh"),
        correlation_id=uow.context.get("correlationid"),
        created_at=at,
    )
    uow.session.add(notification)
    return notification


def disable(endpoint: WebhookEndpoint, reason: str, at: datetime, *, uow: UnitOfWork) -> None:
    """Disable ``endpoint`` (``gone``, ``failing``, or ``owner``); the owner is told unless it
    disabled it itself."""
    if endpoint.status == "disabled":
        return
    endpoint.status = "disabled"
    endpoint.disabled_reason = reason
    endpoint.disabled_at = at
    endpoint.updated_at = at
    if reason != "owner":
        tell_owner(endpoint, reason, at, uow=uow)


# Recording an attempt ----------------------------------------------------------------------------


def record(
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    result: sending.Result,
    at: datetime,
    *,
    uow: UnitOfWork,
    replay: bool = False,
    requested_by: str | None = None,
) -> WebhookAttempt:
    """Record one attempt of ``delivery`` and what it means (rules/deliveries.py): delivered,
    gone (the endpoint is disabled), or tried again on the schedule (failed after the last). A
    replay does not count towards the schedule and never makes a delivery ``failed``."""
    number = (uow.session.scalar(select(func.count()).where(WebhookAttempt.delivery_id == delivery.id)) or 0) + 1
    attempt = WebhookAttempt(
        delivery_id=delivery.id,
        number=number,
        replay=replay,
        at=at,
        status_code=result.status,
        duration_ms=result.duration_ms,
        error=result.error,
        requested_by=requested_by,
    )
    uow.session.add(attempt)
    delivery.last_attempt_at = at
    delivery.last_status_code = result.status
    delivery.last_error = result.error
    if not replay:
        delivery.attempts += 1
    outcome = "retry" if result.refused else schedule.outcome(result.status)
    if outcome == "delivered":
        delivery.status = "delivered"
        delivery.delivered_at = at
        delivery.next_attempt_at = None
        endpoint.failed_in_a_row = 0
        endpoint.failing_since = None
        WEBHOOK_DELIVERIES.labels(outcome="delivered").inc()
    elif outcome == "gone":
        delivery.status = "gone"
        delivery.next_attempt_at = None
        disable(endpoint, "gone", at, uow=uow)
        WEBHOOK_DELIVERIES.labels(outcome="gone").inc()
    elif replay:
        WEBHOOK_DELIVERIES.labels(outcome="refused" if result.refused else "failed").inc()
    else:
        due = schedule.next_attempt(delivery.attempts, at, retry_after_header=result.retry_after)
        if due is not None:
            delivery.next_attempt_at = due
            WEBHOOK_DELIVERIES.labels(outcome="refused" if result.refused else "retry").inc()
        else:
            delivery.status = "failed"
            delivery.next_attempt_at = None
            since = as_utc(endpoint.failing_since) if endpoint.failing_since else None
            run = schedule.FailureRun(endpoint.failed_in_a_row, since).failed(at)
            endpoint.failed_in_a_row, endpoint.failing_since = run.count, run.since
            if run.disables(at):
                disable(endpoint, "failing", at, uow=uow)
            WEBHOOK_DELIVERIES.labels(outcome="failed").inc()
    uow.session.flush()
    return attempt


# The worker's job --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parcel:
    """A claimed delivery as plain values: what to send, and the lease it was claimed under."""

    request: sending.Request
    endpoint_id: str
    due: datetime
    lease: Lease


def claim(*, uow: UnitOfWork, settings: Settings, now: datetime, lease_until: datetime) -> list[Parcel]:
    """Phase 1: at most :data:`BATCH` due deliveries of active endpoints (PostgreSQL: ``FOR UPDATE
    SKIP LOCKED``), leased until ``lease_until``, with their requests built."""
    due = (
        uow.session.scalars(
            select(WebhookDelivery)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                WebhookEndpoint.status == "active",
            )
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(BATCH)
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        )
        .unique()
        .all()
    )
    if not due:
        return []
    endpoints = {
        e.id: e
        for e in uow.session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.id.in_({d.endpoint_id for d in due}))
        )
    }
    parcels = []
    for delivery in due:
        assert delivery.next_attempt_at is not None  # due: it has one
        parcels.append(
            Parcel(
                request_of(delivery, endpoints[delivery.endpoint_id]),
                delivery.endpoint_id,
                as_utc(delivery.next_attempt_at),
                Lease.take(delivery, lease_until),
            )
        )
    uow.session.flush()
    return parcels


def send(parcel: Parcel, settings: Settings) -> sending.Result:
    """Phase 2: :func:`sending.send`, where anything unexpected (a CA bundle that is missing, say)
    is one failed attempt of that delivery, never a failed run that would hold up every other one."""
    try:
        return sending.send(parcel.request, settings)
    except Exception as exc:  # noqa: BLE001 - recorded as the attempt's error and retried
        log.exception("webhook delivery %s could not be sent", parcel.request.delivery_id)
        return sending.Result(None, f"{type(exc).__name__}: could not send", 0)


def record_sent(
    sent: Sequence[Sent[Parcel, sending.Result]], *, uow: UnitOfWork, settings: Settings, now: datetime
) -> int:
    """Phase 3: each attempt recorded (:func:`record`) on its delivery re-read by id, the endpoints
    locked first (in id order, as a replay locks its endpoint before its delivery). A delivery no
    longer under this run's lease (recorded by a replay, or taken by a later run) is left alone; one
    of an endpoint disabled meanwhile (by a 410 earlier in this batch, or its owner) is recorded all the
    same: it was sent. Answers how many attempts were recorded."""
    endpoints = {
        e.id: e
        for e in uow.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.id.in_(sorted({s.item.endpoint_id for s in sent})))
            .order_by(WebhookEndpoint.id)
            .with_for_update()
        )
    }
    done = 0
    for parcel, result in sorted(((s.item, s.result) for s in sent), key=lambda p: p[0].request.delivery_id):
        delivery = uow.session.get(WebhookDelivery, parcel.request.delivery_id, with_for_update=True)
        if delivery is None or delivery.status != "pending" or not parcel.lease.holds(delivery):
            continue
        endpoint = endpoints.get(parcel.endpoint_id)
        if result is None or endpoint is None:  # not sent: due again as it was
            delivery.next_attempt_at = parcel.due
            continue
        # Sent, even if the endpoint was disabled meanwhile (its owner, a 410 earlier in this
        # batch): the attempt is recorded, so an answer the partner gave is never lost nor the
        # delivery sent again on enabling; a retry waits, as the claim skips disabled endpoints.
        record(delivery, endpoint, result, now, uow=uow)
        done += 1
    uow.session.flush()
    return done


deliver_due: Dispatch[Parcel, sending.Result] = Dispatch(
    "deliver_due", claim, send, record_sent, concurrency=MAX_CONCURRENT
)
"""Attempt the deliveries that are due (the worker's job, every 5 s; first attempts and retries):
:func:`claim`, :func:`send` (at most :data:`MAX_CONCURRENT` at once), :func:`record_sent`, run by
the kernel (``shared.service.Dispatch``) with no transaction open while partners answer."""


# A partner's replay ------------------------------------------------------------------------------


def prepare_replay(cmd: PrepareReplay, *, uow: UnitOfWork) -> sending.Request:
    """What a replay sends: the delivery as it was stored, to the endpoint's URL, signed anew when
    it is sent. 404 for another organisation's endpoint or delivery; 409
    ``rule/webhook-endpoint-disabled`` when the endpoint is disabled (enable it first)."""
    endpoint = load_endpoint(uow.session, cmd.actor, cmd.endpoint_id)
    delivery = load_delivery(uow.session, endpoint, cmd.delivery_id)
    if endpoint.status != "active":
        raise Conflict(
            _("This webhook endpoint is disabled; enable it before replaying a delivery."),
            code="rule/webhook-endpoint-disabled",
        )
    return request_of(delivery, endpoint)


def record_replay(cmd: RecordReplay, *, uow: UnitOfWork) -> dict[str, Any]:
    """Record what a replay got; answers the attempt and the delivery as it is now."""
    endpoint = load_endpoint(uow.session, cmd.actor, cmd.endpoint_id, for_update=True)
    delivery = load_delivery(uow.session, endpoint, cmd.delivery_id, for_update=True)
    result = sending.Result(cmd.status, cmd.error, cmd.duration_ms, cmd.retry_after, cmd.refused)
    attempt = record(delivery, endpoint, result, utcnow(), uow=uow, replay=True, requested_by=cmd.actor.subject)
    return {"attempt": attempt_view(attempt), "delivery": delivery_detail(uow.session, delivery)}
