"""Schemas of the business calendar: weekly hours, the years held and their special days."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.consulting.queries.calendar import CALENDAR_SOURCE
from shared.holidays import FIRST_YEAR, KINDS, LAST_YEAR, MANUAL, PARK_DAY_KIND, PUBLIC_HOLIDAY, SOURCE
from shared.http.fields import ParkTime, Readable, Text
from shared.http.languages import Label

CLOCK = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
PERIOD = fields.List(
    fields.String(validate=CLOCK, metadata={"example": "09:00"}),
    validate=validate.Length(equal=2),
    metadata={"description": "[start, end] in park time, HH:MM"},
)


class CalendarQuerySchema(Schema):
    year = fields.Integer(
        validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR),
        metadata={"description": "only this year's special days (default: every year held)"},
    )


class HoursInSchema(Schema):
    hours = fields.Dict(
        keys=fields.String(validate=validate.OneOf([str(d) for d in range(7)])),
        values=fields.List(PERIOD, validate=validate.Length(max=6)),
        required=True,
        metadata={"description": 'weekday "0" (Monday) to "6" (Sunday) → its periods; a weekday left out has none'},
    )


class DayInSchema(Schema):
    day = fields.Date(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    name = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "a festival's code (national_day, spring_festival, …) or its name"},
    )


class YearInSchema(Schema):
    days = fields.List(fields.Nested(DayInSchema), required=True, validate=validate.Length(max=366))


class YearSchema(Schema):
    year = fields.Integer(required=True)
    source = fields.String(required=True, metadata={"enum": [SOURCE, MANUAL]})
    source_label = Label(CALENDAR_SOURCE, attribute="source")
    loaded_by = fields.String(required=True)
    loaded_at = ParkTime(required=True)
    version = fields.Integer(
        required=True,
        metadata={"description": "the year's ETag: If-Match of PUT /calendar/years/{year} and .../official"},
    )
    holidays = fields.Integer(required=True)
    workdays = fields.Integer(required=True)


class DaySchema(Schema):
    day = fields.Date(required=True)
    year = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    kind_label = Label(PARK_DAY_KIND, attribute="kind")
    name = fields.String(allow_none=True)
    name_label = Label(PUBLIC_HOLIDAY, attribute="name", allow_none=True)


class OfficialYearsSchema(Schema):
    first = fields.Integer(required=True)
    last = fields.Integer(required=True)


class CalendarSchema(Schema):
    hours = fields.Dict(keys=fields.String(), values=fields.List(fields.List(fields.String())), required=True)
    minutes_per_week = fields.Integer(required=True)
    minutes_per_day = fields.Integer(
        required=True, metadata={"description": "a usual working day's minutes (the first weekday with hours)"}
    )
    version = fields.Integer(required=True, metadata={"description": "of the hours; 0 while the defaults hold"})
    updated_by = fields.String(allow_none=True)
    updated_at = ParkTime(allow_none=True)
    years = fields.List(fields.Nested(YearSchema), required=True)
    official_years = fields.Nested(
        OfficialYearsSchema, required=True, metadata={"description": "the years the official source covers"}
    )
    days = fields.List(fields.Nested(DaySchema), required=True)
    warnings = fields.List(Readable(), required=True)
