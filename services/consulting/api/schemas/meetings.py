"""Schemas of meetings: asking for one, cancelling and asking again, a meeting as read."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.consulting.queries.meetings import MEETING_STATUS, MEETING_STATUSES
from shared.events.booking import SPACE_KINDS
from shared.http.display_names import DisplayName
from shared.http.fields import ParkTime, Readable, Text, WholeNumber, no_nul
from shared.http.languages import Label

MAX_ATTENDEES = 200


class MeetingInSchema(Schema):
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    starts_at = ParkTime(required=True, metadata={"description": "with an offset; in the future"})
    ends_at = ParkTime(required=True, metadata={"description": "after the start, at most 8 hours later"})
    attendees = WholeNumber(required=True, validate=validate.Range(min=1, max=MAX_ATTENDEES))
    space_kind = fields.String(load_default="conference_room", validate=validate.OneOf(SPACE_KINDS))
    layout = fields.String(load_default=None, allow_none=True, validate=[validate.Length(min=1, max=40), no_nul])
    equipment = fields.List(
        fields.String(validate=[validate.Length(min=1, max=40), no_nul]),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "what the room must have (booking's equipment codes)"},
    )
    note = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=2000), no_nul])


class MeetingCancelSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=2000), no_nul])


class MeetingRetrySchema(Schema):
    starts_at = ParkTime(load_default=None, allow_none=True, metadata={"description": "new start (with ends_at)"})
    ends_at = ParkTime(load_default=None, allow_none=True, metadata={"description": "new end (with starts_at)"})


class AlternativeSchema(Schema):
    space_id = fields.String(required=True)
    space_name = fields.String(required=True)
    space_name_zh = fields.String(required=True)
    space_display_name = DisplayName(name="space_name", name_zh="space_name_zh")
    starts_at = ParkTime(required=True)
    ends_at = ParkTime(required=True)


class MeetingSchema(Schema):
    id = fields.String(required=True)
    case_id = fields.String(required=True)
    request_id = fields.String(required=True, metadata={"description": "booking's request, for tracing"})
    title = fields.String(required=True)
    starts_at = ParkTime(required=True)
    ends_at = ParkTime(required=True)
    attendees = fields.Integer(required=True)
    space_kind = fields.String(required=True, metadata={"enum": list(SPACE_KINDS)})
    layout = fields.String(allow_none=True)
    equipment = fields.List(fields.String(), required=True)
    note = fields.String(allow_none=True)
    status = fields.String(required=True, metadata={"enum": list(MEETING_STATUSES)})
    status_label = Label(MEETING_STATUS, attribute="status")
    reservation_id = fields.String(allow_none=True, metadata={"description": "booking's reservation, once placed"})
    space_name = fields.String(allow_none=True)
    space_name_zh = fields.String(allow_none=True)
    space_display_name = DisplayName(name="space_name", name_zh="space_name_zh")
    rule = fields.String(allow_none=True, metadata={"description": "rejected: the problem code of booking's rule"})
    reason = Readable(
        allow_none=True,
        metadata={
            "description": "rejected or cancelled: why (booking's or a person's words as written; "
            "consulting's own reasons in the reader's language)"
        },
    )
    alternatives = fields.List(
        fields.Nested(AlternativeSchema),
        required=True,
        metadata={"description": "rejected: the nearest free rooms and times booking found (at most 3)"},
    )
    requested_by = fields.String(required=True)
    requested_by_name = fields.String(allow_none=True)
    requested_at = ParkTime(required=True)
    answered_at = ParkTime(allow_none=True)
    updated_at = ParkTime(required=True)
    version = fields.Integer(required=True, metadata={"description": "the meeting's ETag, for If-Match"})


class MeetingListSchema(Schema):
    items = fields.List(fields.Nested(MeetingSchema), required=True)
