"""The feed's schemas: the list's query, a notification, the unread count, marking all read."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from services.notify.rules.notices import KINDS
from shared.http.fields import ParkTime, Text
from shared.http.languages import current_locale
from shared.http.pagination import PageArgs


def in_reader_language(name: str) -> fields.Function:
    """``name`` in the reader's language, from the stored ``<name>_en`` / ``<name>_zh``."""

    def pick(obj: dict[str, Any]) -> str:
        return str(obj[f"{name}_zh"] if current_locale() == "zh" else obj[f"{name}_en"])

    return fields.Function(pick, required=True, metadata={"type": "string", "description": "in the reader's language"})


class NotificationQuerySchema(PageArgs):
    unread = fields.Boolean(load_default=False, metadata={"description": "only those the caller has not read"})
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={"description": "one kind of notice"})
    event_type = Text(validate=validate.Length(min=1, max=120), metadata={"description": "one type of event"})


class NotificationSchema(Schema):
    id = fields.String(required=True)
    event_type = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "what preferences are set per"})
    audience = fields.String(required=True, metadata={"description": "why the caller hears of it"})
    title = in_reader_language("title")
    body = in_reader_language("body")
    subject_id = fields.String(allow_none=True, metadata={"description": "the reservation, case or application"})
    org_id = fields.String(allow_none=True, metadata={"description": "the organisation the event is about"})
    correlation_id = fields.String(allow_none=True)
    created_at = ParkTime(required=True, metadata={"description": "when the event happened"})
    read = fields.Boolean(required=True, metadata={"description": "read by the caller (each reader alone)"})
    read_at = ParkTime(allow_none=True)


class NotificationPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)
    unread = fields.Integer(required=True, metadata={"description": "unread in the whole feed, not this page"})


class UnreadSchema(Schema):
    unread = fields.Integer(required=True)


class ReadAllSchema(Schema):
    marked = fields.Integer(required=True, metadata={"description": "notifications this call marked read"})
    unread = fields.Integer(required=True)
