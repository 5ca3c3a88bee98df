"""Schemas of the reports: the SLA report's parameters and its answer."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.consulting.queries.reports import GROUPINGS
from services.consulting.rules.names import CASE_STATUS, REPORT_GROUP_BY, SLA_CLOCK, SLA_TARGET
from shared.events.consulting import CASE_STATUSES, SLA_CLOCKS, SLA_TARGETS
from shared.http.downloads import HEADERS
from shared.http.fields import ParkTime, plausible_day
from shared.http.languages import Label


class SlaReportQuerySchema(Schema):
    from_ = fields.Date(
        required=True,
        data_key="from",
        validate=plausible_day,
        metadata={"description": "first park day of submission"},
    )
    to = fields.Date(
        required=True,
        validate=plausible_day,
        metadata={"description": "last park day of submission, included; at most 366 days in all"},
    )
    group_by = fields.String(
        load_default="category",
        validate=validate.OneOf(GROUPINGS),
        metadata={"description": "category (the default) or firm"},
    )


class SlaReportCsvQuerySchema(SlaReportQuerySchema):
    header = fields.String(
        load_default="labels",
        validate=validate.OneOf(HEADERS),
        metadata={"description": "the header row in the reader's language (labels) or the column keys"},
    )


class BacklogStatusSchema(Schema):
    status = fields.String(required=True, metadata={"enum": list(CASE_STATUSES)})
    status_label = Label(CASE_STATUS, attribute="status")
    count = fields.Integer(required=True)


class BacklogSchema(Schema):
    total = fields.Integer(required=True, metadata={"description": "cases of the period still open now"})
    by_status = fields.List(fields.Nested(BacklogStatusSchema), required=True)


class ClockAttainmentSchema(Schema):
    clock = fields.String(required=True, metadata={"enum": list(SLA_CLOCKS)})
    clock_label = Label(SLA_CLOCK, attribute="clock")
    target = fields.String(required=True, metadata={"enum": list(SLA_TARGETS)})
    target_label = Label(SLA_TARGET, attribute="target")
    decided = fields.Integer(required=True, metadata={"description": "clocks met, or past their target"})
    met_in_time = fields.Integer(required=True)
    breached = fields.Integer(required=True, metadata={"description": "decided clocks that missed the target"})
    attainment = fields.String(
        allow_none=True, metadata={"description": "met in time / decided, four places; null when none decided"}
    )
    median_minutes = fields.Integer(
        allow_none=True, metadata={"description": "median business minutes to meet the target (met clocks)"}
    )


class RatingsSchema(Schema):
    count = fields.Integer(required=True)
    average = fields.String(allow_none=True, metadata={"description": "two places; null without ratings"})
    distribution = fields.Dict(
        keys=fields.String(), values=fields.Integer(), required=True, metadata={"description": '"1" to "5" stars'}
    )


class SlaReportGroupSchema(Schema):
    key = fields.String(
        allow_none=True, metadata={"description": "the category's code or the firm's id; null: no firm assigned"}
    )
    name = fields.String(allow_none=True)
    name_zh = fields.String(allow_none=True)
    display_name = fields.String(required=True, metadata={"description": "the group's name in the reader's language"})
    cases = fields.Integer(required=True, metadata={"description": "cases submitted in the period"})
    backlog = fields.Nested(BacklogSchema, required=True)
    clocks = fields.List(fields.Nested(ClockAttainmentSchema), required=True)
    ratings = fields.Nested(RatingsSchema, required=True)


class SlaReportSchema(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    group_by = fields.String(required=True, metadata={"enum": list(GROUPINGS)})
    group_by_label = Label(REPORT_GROUP_BY, attribute="group_by")
    generated_at = ParkTime(required=True)
    groups = fields.List(fields.Nested(SlaReportGroupSchema), required=True)
