"""Schemas of a partner's review: its steps' bodies and a review as read."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.finance.rules.names import DECLINE_REASON, REVIEW_STATUS
from shared.events.finance import DECLINE_REASONS, REVIEW_STATUSES
from shared.http.fields import OrganisationRefSchema, ParkTime, Readable, Text
from shared.http.languages import Label

NOTE = validate.Length(max=2000)

# In ------------------------------------------------------------------------------------------------


class InfoRequestSchema(Schema):
    document_types = fields.List(
        Text(validate=validate.Length(min=1, max=64)),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "the document types the tenant is asked to upload"},
    )
    questions = fields.List(
        Text(validate=validate.Length(min=1, max=2000)),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "the questions the tenant is asked to answer"},
    )
    note = Text(load_default=None, allow_none=True, validate=NOTE)


class InfoAnswerSchema(Schema):
    answers = fields.List(
        Text(validate=validate.Length(max=4000)),
        load_default=list,
        validate=validate.Length(max=20),
        metadata={"description": "the answers to the questions, in their order"},
    )
    note = Text(load_default=None, allow_none=True, validate=NOTE)


class DeclineSchema(Schema):
    reason_code = fields.String(
        required=True, metadata={"enum": list(DECLINE_REASONS), "description": "why the partner declines"}
    )
    note = Text(load_default=None, allow_none=True, validate=NOTE, metadata={"description": "required for other"})


# Out -----------------------------------------------------------------------------------------------


class InfoRequestedSchema(Schema):
    document_types = fields.List(fields.String())
    questions = fields.List(fields.String())
    note = fields.String(allow_none=True)
    requested_by = fields.String(allow_none=True)
    requested_at = fields.String(allow_none=True, metadata={"description": "UTC, RFC 3339"})
    answers = fields.List(fields.String(), allow_none=True)
    answer_note = fields.String(allow_none=True)
    answered_at = fields.String(allow_none=True, metadata={"description": "UTC, RFC 3339"})
    document_ids = fields.List(fields.String())


class ReviewSchema(Schema):
    id = fields.String(required=True)
    application_id = fields.String(required=True)
    partner_org_id = fields.String(required=True)
    partner = fields.Nested(OrganisationRefSchema, required=True)
    status = fields.String(required=True, metadata={"enum": list(REVIEW_STATUSES)})
    status_label = Label(REVIEW_STATUS, attribute="status")
    requested = fields.Nested(
        InfoRequestedSchema, allow_none=True, metadata={"description": "the last information request, and its answer"}
    )
    resume_status = fields.String(allow_none=True, metadata={"description": "where the review resumes when answered"})
    decline_reason = fields.String(allow_none=True, metadata={"enum": list(DECLINE_REASONS)})
    decline_reason_label = Label(DECLINE_REASON, attribute="decline_reason", allow_none=True)
    reason = Readable(allow_none=True)
    routed_at = ParkTime(required=True)
    updated_at = ParkTime(required=True)
    actions = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "the steps the caller may take now (start_review, request_info, provide_info, ...)"},
    )
    version = fields.Integer(required=True, metadata={"description": "the review's ETag, for If-Match"})


class ReviewListSchema(Schema):
    items = fields.List(fields.Nested(ReviewSchema), required=True)
