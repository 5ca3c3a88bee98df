"""Schemas of valuations: the latest valuation request an IP-pledge application shows."""

from __future__ import annotations

from marshmallow import Schema, fields

from shared.http.fields import ParkTime, Readable


class ValuationShownSchema(Schema):
    """The latest valuation request of an IP-pledge application and what the desk may do."""

    request_id = fields.String(load_default=None, allow_none=True)
    status = fields.String(
        allow_none=True,
        metadata={"enum": ["requested", "opened", "valued", "failed", "no_answer"], "description": "null: none yet"},
    )
    status_label = Readable(allow_none=True)
    case_id = fields.String(allow_none=True)
    case_number = fields.String(allow_none=True, metadata={"description": "consulting's valuation case"})
    appraiser_org_id = fields.String(allow_none=True)
    amount = fields.Decimal(as_string=True, places=2, allow_none=True)
    currency = fields.String(allow_none=True)
    report_name = fields.String(allow_none=True)
    report_attachment_id = fields.String(
        allow_none=True, metadata={"description": "the report, read through consulting's case"}
    )
    failure = fields.String(allow_none=True, metadata={"enum": ["cancelled", "declined_by_all"]})
    failure_label = Readable(allow_none=True)
    reason = fields.String(allow_none=True)
    requested_by = fields.String(allow_none=True)
    requested_at = ParkTime(allow_none=True)
    answered_at = ParkTime(allow_none=True)
    actions = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "request_valuation: POST /applications/{id}/valuation-request; "
            "record_valuation (by hand): PUT /applications/{id}/valuation"
        },
    )
