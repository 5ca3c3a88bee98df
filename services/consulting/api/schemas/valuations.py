"""Schemas of a valuation case's valuation (``POST /cases/{id}/valuation``)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class CaseValuationInSchema(Schema):
    amount = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "yuan, a decimal string with at most two places", "example": "2600000.00"},
    )
    currency = fields.String(load_default="CNY", validate=validate.OneOf(("CNY",)))
    report_attachment_id = fields.UUID(
        required=True, metadata={"description": "the report: an attachment of one of the case's messages"}
    )


class CaseValuationSchema(Schema):
    case_id = fields.String(required=True)
    case_number = fields.String(required=True)
    origin = fields.String(allow_none=True)
    application_id = fields.String(allow_none=True, metadata={"description": "finance's application"})
    amount = fields.Decimal(as_string=True, places=2, allow_none=True)
    currency = fields.String(allow_none=True)
    report_attachment_id = fields.String(allow_none=True)
    report_name = fields.String(allow_none=True)
    version = fields.Integer(required=True)
    recorded_at = fields.String(allow_none=True)
