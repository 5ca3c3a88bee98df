"""Schemas of the pipeline report: its parameters and its answer. Money as decimal strings."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.finance.queries.reports import GROUPINGS, REPORTED_STATUSES
from services.finance.rules.names import APPLICATION_STATUS
from shared.http.downloads import HEADERS
from shared.http.fields import ParkTime, plausible_day
from shared.http.languages import Label

_MONEY = {"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["500000.00"]}


class PipelineQuerySchema(Schema):
    from_ = fields.Date(
        required=True, data_key="from", validate=plausible_day, metadata={"description": "first park day of submission"}
    )
    to = fields.Date(
        required=True,
        validate=plausible_day,
        metadata={"description": "last park day of submission, included; at most 366 days in all"},
    )
    group_by = fields.String(
        load_default="product",
        validate=validate.OneOf(GROUPINGS),
        metadata={"description": "product (the default) or partner"},
    )


class PipelineCsvQuerySchema(PipelineQuerySchema):
    header = fields.String(
        load_default="labels",
        validate=validate.OneOf(HEADERS),
        metadata={"description": "the header row in the reader's language (labels) or the column keys"},
    )


class PipelineStatusSchema(Schema):
    status = fields.String(required=True, metadata={"enum": list(REPORTED_STATUSES)})
    status_label = Label(APPLICATION_STATUS, attribute="status")
    count = fields.Integer(required=True, metadata={"description": "applications in this state now"})
    amount = fields.String(required=True, metadata={**_MONEY, "description": "their amounts asked for"})


class PipelineGroupSchema(Schema):
    key = fields.String(required=True, metadata={"description": "the product's id or the partner's organisation id"})
    name = fields.String(allow_none=True)
    name_zh = fields.String(allow_none=True)
    display_name = fields.String(required=True, metadata={"description": "the group's name in the reader's language"})
    applications = fields.Integer(required=True, metadata={"description": "applications submitted in the period"})
    amount_requested = fields.String(required=True, metadata=_MONEY)
    by_status = fields.List(fields.Nested(PipelineStatusSchema), required=True)
    reviews_decided = fields.Integer(required=True, metadata={"description": "reviews with an offer, or declined"})
    offers_made = fields.Integer(required=True, metadata={"description": "decided reviews with an offer"})
    approval_rate = fields.String(
        allow_none=True, metadata={"description": "offers made / reviews decided, four places; null when none decided"}
    )
    median_days_to_offer = fields.String(
        allow_none=True,
        metadata={"description": "median days from submission to the first offer, one place; null without offers"},
    )
    disbursed = fields.String(required=True, metadata={**_MONEY, "description": "approved tranches"})


class PipelineReportSchema(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    group_by = fields.String(required=True, metadata={"enum": list(GROUPINGS)})
    generated_at = ParkTime(required=True)
    groups = fields.List(fields.Nested(PipelineGroupSchema), required=True)
