"""The timeline's schemas: the query (organisation, period, order) and a line."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.notify.api.schemas.notifications import in_reader_language
from shared.http.fields import ParkTime, Text
from shared.http.pagination import PageArgs
from shared.i18n import _


class TimelineQuerySchema(PageArgs):
    org_id = Text(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "staff: the organisation to read (default: the caller's own)"},
    )
    from_ = ParkTime(data_key="from", metadata={"description": "events at or after"})
    to = ParkTime(metadata={"description": "events before"})
    order = fields.String(
        load_default="asc",
        validate=validate.OneOf(("asc", "desc")),
        metadata={"description": "asc: oldest first (default); desc: newest first"},
    )
    event_type = Text(validate=validate.Length(min=1, max=120), metadata={"description": "one type of event"})

    @validates_schema
    def period(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] >= data["to"]:
            raise ValidationError(_("The end of the period comes after its start.").msgid, field_name="to")


class TimelineEntrySchema(Schema):
    at = ParkTime(required=True, metadata={"description": "when it happened"})
    event_type = fields.String(required=True)
    service = fields.String(required=True)
    title = in_reader_language("title")
    subject_id = fields.String(allow_none=True, metadata={"description": "the reservation, case or application"})
    correlation_id = fields.String(allow_none=True, metadata={"description": "the journey it belongs to"})


class TimelinePageSchema(Schema):
    org_id = fields.String(required=True)
    items = fields.List(fields.Nested(TimelineEntrySchema), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)
