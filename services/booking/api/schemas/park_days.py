"""Schemas of the park's calendar: public holidays and make-up working days, year by year."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.booking.api.schemas.spaces import day
from shared.holidays import FIRST_YEAR, KINDS, LAST_YEAR, PARK_DAY_KIND, PUBLIC_HOLIDAY
from shared.http.fields import ParkTime, Readable
from shared.http.languages import Label


class ParkCalendarQuerySchema(Schema):
    year = fields.Integer(
        validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR),
        metadata={"description": "The year to show (default: this year, park time)."},
    )


class ParkDaySchema(Schema):
    date = fields.Date(required=True)
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    kind_label = Label(PARK_DAY_KIND, attribute="kind")
    name = fields.String(
        allow_none=True,
        metadata={"description": "the festival's code (national_day, …) from the official source, or a typed name"},
    )
    name_label = Label(PUBLIC_HOLIDAY, attribute="name", allow_none=True)
    source = fields.String(
        required=True, metadata={"description": "chinesecalendar (the official schedule) or manual (entered by hand)"}
    )
    updated_at = ParkTime(required=True)


class ParkCalendarSchema(Schema):
    year = fields.Integer(required=True)
    days = fields.List(fields.Nested(ParkDaySchema), required=True)
    loaded_years = fields.List(
        fields.Integer(), required=True, metadata={"description": "years with days in the park's calendar"}
    )
    covered_years = fields.List(
        fields.Integer(), required=True, metadata={"description": "years the official source has a schedule for"}
    )
    source = fields.String(required=True)
    next_year = fields.Integer(required=True)
    next_year_loaded = fields.Boolean(required=True)
    warnings = fields.List(Readable(), required=True)


class ParkDayInSchema(Schema):
    date = day(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    name = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "a festival's code (national_day, spring_festival, …) or its name"},
    )


class ParkYearInSchema(Schema):
    days = fields.List(fields.Nested(ParkDayInSchema), required=True, validate=validate.Length(max=366))
