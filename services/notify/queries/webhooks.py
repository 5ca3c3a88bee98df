"""A partner's webhook endpoints and their delivery log, as the partner reads them.

An endpoint is its organisation's: another organisation's endpoint (or a delivery of it) is a
404, never a 403, so ids are not confirmed to whoever guesses them. Secrets are never read here
(they are answered once, by the handler that creates or rotates them).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.notify.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal


def endpoint_url(endpoint_id: str) -> str:
    return f"/api/v1/notify/webhooks/{endpoint_id}"


def endpoint_view(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": list(endpoint.event_types),
        "status": endpoint.status,
        "disabled_reason": endpoint.disabled_reason,
        "disabled_at": endpoint.disabled_at,
        "failed_in_a_row": endpoint.failed_in_a_row,
        "failing_since": endpoint.failing_since,
        "secret_rotated_at": endpoint.secret_rotated_at,
        "created_by": endpoint.created_by,
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
        "version": endpoint.version,
    }


def load_endpoint(session: Session, actor: Principal, endpoint_id: str, *, for_update: bool = False) -> WebhookEndpoint:
    """The endpoint ``endpoint_id`` of the actor's organisation, else 404."""
    endpoint = session.get(WebhookEndpoint, endpoint_id, with_for_update=for_update)
    if endpoint is None or endpoint.org_id != actor.org_id:
        raise NotFound(_("There is no webhook endpoint {id}.", id=endpoint_id), code="not-found")
    return endpoint


def load_delivery(
    session: Session, endpoint: WebhookEndpoint, delivery_id: str, *, for_update: bool = False
) -> WebhookDelivery:
    """The delivery ``delivery_id`` of ``endpoint``, else 404."""
    delivery = session.get(WebhookDelivery, delivery_id, with_for_update=for_update)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound(_("There is no delivery {id} of this webhook endpoint.", id=delivery_id), code="not-found")
    return delivery


def endpoints(session: Session, actor: Principal) -> list[dict[str, Any]]:
    """The actor's organisation's endpoints, oldest first."""
    rows = session.scalars(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.org_id == actor.org_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return [endpoint_view(row) for row in rows]


def one_endpoint(session: Session, actor: Principal, endpoint_id: str) -> dict[str, Any]:
    return endpoint_view(load_endpoint(session, actor, endpoint_id))


def delivery_item(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "event_type": delivery.event_type,
        "event_id": delivery.event_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "next_attempt_at": delivery.next_attempt_at,
        "delivered_at": delivery.delivered_at,
        "created_at": delivery.created_at,
    }


def attempt_view(attempt: WebhookAttempt) -> dict[str, Any]:
    return {
        "number": attempt.number,
        "replay": attempt.replay,
        "at": attempt.at,
        "status_code": attempt.status_code,
        "duration_ms": attempt.duration_ms,
        "error": attempt.error,
        "requested_by": attempt.requested_by,
    }


def delivery_detail(session: Session, delivery: WebhookDelivery) -> dict[str, Any]:
    """A delivery with its payload (as sent) and every attempt, in order."""
    attempts = session.scalars(
        select(WebhookAttempt).where(WebhookAttempt.delivery_id == delivery.id).order_by(WebhookAttempt.id)
    )
    return {
        **delivery_item(delivery),
        "endpoint_id": delivery.endpoint_id,
        "payload": delivery.payload,
        "attempt_log": [attempt_view(attempt) for attempt in attempts],
    }


def deliveries(session: Session, actor: Principal, endpoint_id: str, args: dict[str, Any]) -> dict[str, Any]:
    """A page of the endpoint's deliveries, newest first (``status`` filters)."""
    endpoint = load_endpoint(session, actor, endpoint_id)
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if args.get("status"):
        query = query.where(WebhookDelivery.status == args["status"])
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    page, size = int(args.get("page", 1)), int(args.get("page_size", 50))
    rows = session.scalars(
        query.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    )
    return {"items": [delivery_item(row) for row in rows], "page": page, "page_size": size, "total": int(total)}


def one_delivery(session: Session, actor: Principal, endpoint_id: str, delivery_id: str) -> dict[str, Any]:
    endpoint = load_endpoint(session, actor, endpoint_id)
    return delivery_detail(session, load_delivery(session, endpoint, delivery_id))
