"""Schemas of webhook endpoints, their deliveries and replays."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.http.fields import ParkTime, no_nul
from shared.http.pagination import PageArgs

ENDPOINT_STATUSES = ("active", "disabled")
DISABLED_REASONS = ("owner", "gone", "failing")
DELIVERY_STATUSES = ("pending", "delivered", "failed", "gone")

_PATTERNS = fields.List(
    fields.String(validate=[validate.Length(min=1, max=120), no_nul]),
    validate=validate.Length(min=1, max=50),
    metadata={
        "description": "event types or patterns: an exact type, a prefix such as "
        "finance.application.*, or * (every type a partner can receive)",
        "example": ["finance.application.*"],
    },
)


class WebhookEndpointInSchema(Schema):
    url = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=2000), no_nul],
        metadata={"example": "https://bank.example/hooks"},
    )
    event_types = fields.List(
        fields.String(validate=[validate.Length(min=1, max=120), no_nul]),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata=_PATTERNS.metadata,
    )
    description = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=300), no_nul])


class WebhookEndpointPatchSchema(Schema):
    url = fields.String(validate=[validate.Length(min=1, max=2000), no_nul])
    event_types = fields.List(
        fields.String(validate=[validate.Length(min=1, max=120), no_nul]),
        validate=validate.Length(min=1, max=50),
        metadata=_PATTERNS.metadata,
    )
    description = fields.String(allow_none=True, validate=[validate.Length(max=300), no_nul])


class WebhookEndpointSchema(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    description = fields.String(allow_none=True)
    event_types = fields.List(fields.String(), required=True)
    status = fields.String(required=True, metadata={"enum": list(ENDPOINT_STATUSES)})
    disabled_reason = fields.String(
        allow_none=True,
        metadata={"enum": list(DISABLED_REASONS), "description": "owner, gone (it answered 410) or failing"},
    )
    disabled_at = ParkTime(allow_none=True)
    failed_in_a_row = fields.Integer(
        required=True, metadata={"description": "deliveries failed since the last success"}
    )
    failing_since = ParkTime(allow_none=True)
    secret_rotated_at = ParkTime(allow_none=True)
    created_by = fields.String(required=True)
    created_at = ParkTime(required=True)
    updated_at = ParkTime(required=True)
    version = fields.Integer(required=True)


class WebhookEndpointWithSecretSchema(WebhookEndpointSchema):
    secret = fields.String(
        required=True,
        metadata={"description": "whsec_...: shown only now; verify deliveries with it (Standard Webhooks)"},
    )


class WebhookEndpointListSchema(Schema):
    items = fields.List(fields.Nested(WebhookEndpointSchema), required=True)


class WebhookDeliveryArgs(PageArgs):
    status = fields.String(load_default=None, validate=validate.OneOf(DELIVERY_STATUSES))


class WebhookDeliverySchema(Schema):
    id = fields.String(required=True, metadata={"description": "the webhook-id header of every attempt"})
    event_type = fields.String(required=True)
    event_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(DELIVERY_STATUSES)})
    attempts = fields.Integer(required=True, metadata={"description": "scheduled attempts made (replays not counted)"})
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    next_attempt_at = ParkTime(allow_none=True)
    delivered_at = ParkTime(allow_none=True)
    created_at = ParkTime(required=True)


class WebhookDeliveryPageSchema(Schema):
    items = fields.List(fields.Nested(WebhookDeliverySchema), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)


class WebhookAttemptSchema(Schema):
    number = fields.Integer(required=True)
    replay = fields.Boolean(required=True)
    at = ParkTime(required=True)
    status_code = fields.Integer(allow_none=True)
    duration_ms = fields.Integer(required=True)
    error = fields.String(allow_none=True)
    requested_by = fields.String(allow_none=True)


class WebhookDeliveryDetailSchema(WebhookDeliverySchema):
    endpoint_id = fields.String(required=True)
    payload = fields.Dict(required=True, metadata={"description": "the body as sent"})
    attempt_log = fields.List(fields.Nested(WebhookAttemptSchema), required=True)


class WebhookReplaySchema(Schema):
    attempt = fields.Nested(WebhookAttemptSchema, required=True)
    delivery = fields.Nested(WebhookDeliveryDetailSchema, required=True)
