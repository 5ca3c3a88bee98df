"""``/webhooks``: a partner's webhook endpoints, their deliveries and replays.

Every path is the caller's organisation's (RIGHTS ``manage_webhooks``: partner agents); another
organisation's endpoint or delivery is a 404. Creating takes ``Idempotency-Key``; changes take
``If-Match`` with the endpoint's ``ETag`` (its ``version``). A replay is sent while the request
waits (at most ``webhook_timeout_seconds``), outside any transaction, and answered 200 with the
attempt it made, whatever the partner answered.
"""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from services.notify.api.schemas.webhooks import (
    WebhookDeliveryArgs,
    WebhookDeliveryDetailSchema,
    WebhookDeliveryPageSchema,
    WebhookEndpointInSchema,
    WebhookEndpointListSchema,
    WebhookEndpointPatchSchema,
    WebhookEndpointSchema,
    WebhookEndpointWithSecretSchema,
    WebhookReplaySchema,
)
from services.notify.commands.webhooks import (
    EndpointAction,
    PrepareReplay,
    RecordReplay,
    RegisterEndpoint,
    UpdateEndpoint,
)
from services.notify.handlers import sending
from services.notify.handlers.endpoints import act, register, update
from services.notify.handlers.webhooks import prepare_replay, record_replay
from services.notify.permissions import RIGHTS
from services.notify.queries.webhooks import deliveries, endpoint_url, endpoints, one_delivery, one_endpoint
from shared.http.app import service_context
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.fields import EmptySchema
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "notify-webhooks",
    "parkhub.notify.webhooks",
    description="A partner's webhook endpoints, their deliveries and replays.",
)

MANAGE = "manage_webhooks"


def _allow_private() -> bool:
    return bool(service_context().settings.webhook_allow_private)


def answer(endpoint: dict[str, Any], status: int = 200) -> Any:
    return (
        endpoint,
        status,
        versioned_headers(endpoint["version"], endpoint_url(endpoint["id"]) if status == 201 else None),
    )


@blp.route("/webhooks")
class Endpoints(MethodView):
    @RIGHTS.guard(MANAGE, current_principal)
    @blp.response(200, WebhookEndpointListSchema)
    def get(self) -> dict[str, Any]:
        """The caller's organisation's webhook endpoints (never their secrets)."""
        with reading() as session:
            return {"items": endpoints(session, current_principal())}

    @RIGHTS.guard(MANAGE, current_principal)
    @idempotent()
    @blp.arguments(WebhookEndpointInSchema)
    @blp.response(201, WebhookEndpointWithSecretSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any]) -> Any:
        """Register an HTTPS endpoint for the caller's organisation, subscribed to event types (exact,
        ``prefix.*`` or ``*``); answers it with its ``secret``, shown only now. 422
        ``rule/webhook-url-scheme``, ``rule/webhook-url-invalid``, ``rule/webhook-url-unresolvable``,
        ``rule/webhook-url-private``, ``rule/webhook-event-unknown``."""
        command = RegisterEndpoint(
            current_principal(),
            body["url"],
            tuple(body["event_types"]),
            body.get("description"),
            allow_private=_allow_private(),
        )
        return answer(execute(register, command), 201)


@blp.route("/webhooks/<uuid:endpoint_id>")
class Endpoint(MethodView):
    @RIGHTS.guard(MANAGE, current_principal)
    @blp.response(200, WebhookEndpointSchema)
    def get(self, endpoint_id: Any) -> Any:
        """One endpoint of the caller's organisation, with its ``ETag``."""
        with reading() as session:
            return answer(one_endpoint(session, current_principal(), str(endpoint_id)))

    @RIGHTS.guard(MANAGE, current_principal)
    @blp.arguments(WebhookEndpointPatchSchema)
    @blp.response(200, WebhookEndpointSchema)
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, body: dict[str, Any], endpoint_id: Any) -> Any:
        """Change the URL, the subscriptions or the description (checked as at registration)."""
        command = UpdateEndpoint(
            current_principal(), str(endpoint_id), if_match_versions(), dict(body), allow_private=_allow_private()
        )
        return answer(execute(update, command))

    @RIGHTS.guard(MANAGE, current_principal)
    @blp.response(204)
    @blp.doc(parameters=[IF_MATCH])
    def delete(self, endpoint_id: Any) -> Any:
        """Delete the endpoint with its delivery log; nothing more is sent to it."""
        execute(act, EndpointAction(current_principal(), str(endpoint_id), "delete", if_match_versions()))
        return Response(status=204)


def _action(endpoint_id: Any, action: str) -> Any:
    return answer(execute(act, EndpointAction(current_principal(), str(endpoint_id), action, if_match_versions())))


@blp.route("/webhooks/<uuid:endpoint_id>/rotate-secret")
class RotateSecret(MethodView):
    @RIGHTS.guard(MANAGE, current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, WebhookEndpointWithSecretSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], endpoint_id: Any) -> Any:
        """A new secret, answered only now; for 24 h deliveries are signed with the old one as
        well (two signatures), so the receiver can switch without losing any."""
        return _action(endpoint_id, "rotate")


@blp.route("/webhooks/<uuid:endpoint_id>/enable")
class Enable(MethodView):
    @RIGHTS.guard(MANAGE, current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, WebhookEndpointSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], endpoint_id: Any) -> Any:
        """Enable a disabled endpoint (its failure run starts anew); its pending deliveries go out."""
        return _action(endpoint_id, "enable")


@blp.route("/webhooks/<uuid:endpoint_id>/disable")
class Disable(MethodView):
    @RIGHTS.guard(MANAGE, current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, WebhookEndpointSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], endpoint_id: Any) -> Any:
        """Stop sending to the endpoint; deliveries wait, pending, until it is enabled again."""
        return _action(endpoint_id, "disable")


@blp.route("/webhooks/<uuid:endpoint_id>/deliveries")
class Deliveries(MethodView):
    @RIGHTS.guard(MANAGE, current_principal)
    @blp.arguments(WebhookDeliveryArgs, location="query")
    @blp.response(200, WebhookDeliveryPageSchema)
    def get(self, args: dict[str, Any], endpoint_id: Any) -> dict[str, Any]:
        """The endpoint's deliveries, newest first (``status``: pending, delivered, failed, gone)."""
        with reading() as session:
            return deliveries(session, current_principal(), str(endpoint_id), args)


@blp.route("/webhooks/<uuid:endpoint_id>/deliveries/<string:delivery_id>")
class Delivery(MethodView):
    @RIGHTS.guard(MANAGE, current_principal)
    @blp.response(200, WebhookDeliveryDetailSchema)
    def get(self, endpoint_id: Any, delivery_id: str) -> dict[str, Any]:
        """One delivery with its payload as sent and every attempt."""
        with reading() as session:
            return one_delivery(session, current_principal(), str(endpoint_id), delivery_id)


@blp.route("/webhooks/<uuid:endpoint_id>/deliveries/<string:delivery_id>/replay")
class Replay(MethodView):
    @RIGHTS.guard(MANAGE, current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, WebhookReplaySchema)
    def post(self, body: dict[str, Any], endpoint_id: Any, delivery_id: str) -> dict[str, Any]:
        """Send the delivery again now: the same ``webhook-id``, a fresh timestamp and signature.
        Answers 200 with the attempt (``status_code``/``error``: what the endpoint answered) and the
        delivery; a 2xx makes it delivered, a 410 disables the endpoint, anything else changes no
        schedule. 409 ``rule/webhook-endpoint-disabled`` when the endpoint is disabled."""
        actor = current_principal()
        request = execute(prepare_replay, PrepareReplay(actor, str(endpoint_id), delivery_id))
        result = sending.send(request, service_context().settings)
        command = RecordReplay(
            actor,
            str(endpoint_id),
            delivery_id,
            result.status,
            result.error,
            result.duration_ms,
            result.retry_after,
            result.refused,
        )
        answered: dict[str, Any] = execute(record_replay, command)
        return answered
