"""A partner's webhook endpoints: register, change, rotate the secret, disable and enable, delete.

An endpoint is its organisation's (another's is a 404: queries/webhooks.load_endpoint). The URL is
checked by rules/endpoints.check_url with the resolver :func:`sending.resolve` (again before every
delivery); the subscriptions by check_event_types against the types a partner can ever receive
(rules/payloads.PARTNER_EVENT_TYPES). The secret is answered only by ``register`` and ``rotate``.
Nothing here commits.
"""

from __future__ import annotations

import uuid
from typing import Any

from services.notify.commands.webhooks import EndpointAction, RegisterEndpoint, UpdateEndpoint
from services.notify.handlers import sending
from services.notify.handlers.webhooks import disable
from services.notify.models import WebhookEndpoint
from services.notify.queries.webhooks import endpoint_view, load_endpoint
from services.notify.rules.endpoints import check_event_types, check_url
from services.notify.rules.payloads import PARTNER_EVENT_TYPES
from services.notify.rules.signing import Secrets, new_secret
from shared.clock import as_utc, utcnow
from shared.db import UnitOfWork
from shared.errors import RuleViolation, check_version
from shared.i18n import _


def _url(url: str, allow_private: bool) -> str:
    return check_url(url.strip(), sending.resolve, allow_private=allow_private)


def _event_types(patterns: Any) -> list[str]:
    if not patterns:
        raise RuleViolation(_("Subscribe to at least one event type."), code="rule/webhook-event-required")
    return check_event_types([str(p).strip() for p in patterns], PARTNER_EVENT_TYPES)


def register(cmd: RegisterEndpoint, *, uow: UnitOfWork) -> dict[str, Any]:
    """A new active endpoint of the actor's organisation; answers it with its secret."""
    url = _url(cmd.url, cmd.allow_private)
    event_types = _event_types(cmd.event_types)
    now = utcnow()
    endpoint = WebhookEndpoint(
        id=str(uuid.uuid4()),
        org_id=cmd.actor.org_id,
        url=url,
        description=(cmd.description or "").strip() or None,
        event_types=event_types,
        secret=new_secret(),
        previous_secret=None,
        secret_rotated_at=None,
        status="active",
        failed_in_a_row=0,
        created_by=cmd.actor.subject,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(endpoint)
    uow.session.flush()
    return {**endpoint_view(endpoint), "secret": endpoint.secret}


def update(cmd: UpdateEndpoint, *, uow: UnitOfWork) -> dict[str, Any]:
    """Change the URL, subscriptions or description given, at the version ``If-Match`` named."""
    endpoint = load_endpoint(uow.session, cmd.actor, cmd.endpoint_id, for_update=True)
    check_version(endpoint.version, cmd.expected_versions)
    changes = cmd.changes
    if "url" in changes:
        endpoint.url = _url(changes["url"], cmd.allow_private)
    if "event_types" in changes:
        endpoint.event_types = _event_types(changes["event_types"])
    if "description" in changes:
        endpoint.description = (changes["description"] or "").strip() or None
    endpoint.updated_at = utcnow()
    uow.session.flush()
    return endpoint_view(endpoint)


def act(cmd: EndpointAction, *, uow: UnitOfWork) -> dict[str, Any]:
    """``rotate`` (answers the new secret; the old one signs for 24 h more), ``enable`` (also
    starts a new failure run), ``disable``, ``delete`` (with its log; answers ``{"id"}`` only)."""
    endpoint = load_endpoint(uow.session, cmd.actor, cmd.endpoint_id, for_update=True)
    check_version(endpoint.version, cmd.expected_versions)
    now = utcnow()
    if cmd.action == "delete":
        uow.session.delete(endpoint)
        uow.session.flush()
        return {"id": cmd.endpoint_id}
    if cmd.action == "rotate":
        rotated_at = as_utc(endpoint.secret_rotated_at) if endpoint.secret_rotated_at else None
        keys = Secrets(endpoint.secret, endpoint.previous_secret, rotated_at).rotate(new_secret(), now)
        endpoint.secret, endpoint.previous_secret, endpoint.secret_rotated_at = (
            keys.current,
            keys.previous,
            keys.rotated_at,
        )
    elif cmd.action == "enable":
        endpoint.status = "active"
        endpoint.disabled_reason = None
        endpoint.disabled_at = None
        endpoint.failed_in_a_row = 0
        endpoint.failing_since = None
    elif cmd.action == "disable":
        disable(endpoint, "owner", now, uow=uow)
    else:  # pragma: no cover - the views name the actions
        raise ValueError(cmd.action)
    endpoint.updated_at = now
    uow.session.flush()
    answer = endpoint_view(endpoint)
    if cmd.action == "rotate":
        answer["secret"] = endpoint.secret
    return answer
