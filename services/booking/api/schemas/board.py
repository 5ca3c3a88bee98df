"""Schemas of the desk's day board, the gate list, and the reservations export for billing."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.booking.api.schemas.reservations import CheckInSchema
from services.booking.api.schemas.spaces import IntervalSchema, SpaceSummarySchema, day
from services.booking.rules.names import CHECK_IN_STATE, LAYOUT, PLATE_KIND, RESERVATION_STATUS
from services.booking.rules.policy import CHECK_IN_STATES
from shared.events.booking import RESERVATION_STATUSES, SPACE_KINDS
from shared.http.display_names import DisplayName
from shared.http.downloads import HEADERS
from shared.http.fields import ParkTime
from shared.http.languages import Label

FORMATS = ("json", "csv", "html")


def _format() -> fields.String:
    return fields.String(
        validate=validate.OneOf(FORMATS),
        metadata={
            "description": "json (the default), csv (UTF-8 with a BOM) or html (a page to print on A4); "
            "without it, the Accept header decides (application/json, text/csv, text/html)"
        },
    )


def _header() -> fields.String:
    return fields.String(
        load_default="labels",
        validate=validate.OneOf(HEADERS),
        metadata={"description": "CSV only: the header row in the reader's language (labels) or the column keys"},
    )


class BoardQuerySchema(Schema):
    date = day(metadata={"description": "the first day (park time); today when left out"})
    days = fields.Integer(
        load_default=1, strict=False, validate=validate.Range(min=1, max=7), metadata={"description": "1 to 7"}
    )
    building = fields.String(validate=validate.Length(min=1, max=100))
    kind = fields.String(validate=validate.OneOf(SPACE_KINDS))
    format = _format()
    header = _header()


class GateQuerySchema(Schema):
    date = day(metadata={"description": "the day (park time); today when left out"})
    format = _format()
    header = _header()


class BoardOrganisationSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(allow_none=True)
    name_zh = fields.String(allow_none=True)
    display_name = DisplayName()


class BoardCheckInSchema(CheckInSchema):
    state = fields.String(allow_none=True, metadata={"enum": [*CHECK_IN_STATES, None]})
    state_label = Label(CHECK_IN_STATE, attribute="state", allow_none=True)


class BoardReservationSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(RESERVATION_STATUSES)})
    status_label = Label(RESERVATION_STATUS, attribute="status")
    organisation = fields.Nested(BoardOrganisationSchema, required=True)
    booked_by_name = fields.String(allow_none=True)
    title = fields.String(required=True)
    attendees = fields.Integer(required=True)
    layout = fields.String(allow_none=True)
    layout_label = Label(LAYOUT, attribute="layout", allow_none=True)
    note = fields.String(allow_none=True)
    start = ParkTime(required=True)
    end = ParkTime(required=True)
    hold = fields.Nested(IntervalSchema, required=True, metadata={"description": "from setup to cleanup"})
    setup_minutes = fields.Integer(required=True)
    cleanup_minutes = fields.Integer(required=True)
    check_in = fields.Nested(BoardCheckInSchema, required=True)
    visitors = fields.Integer(required=True, metadata={"description": "how many visitors are announced"})
    booths_let = fields.Integer(required=True, metadata={"description": "exhibition booths let inside this booking"})
    series_id = fields.String(allow_none=True)


class BoardClosureSchema(IntervalSchema):
    reason = fields.String(required=True)


class BoardSpaceSchema(SpaceSummarySchema):
    booths = fields.Integer(allow_none=True)
    closures = fields.List(fields.Nested(BoardClosureSchema), required=True)
    reservations = fields.List(fields.Nested(BoardReservationSchema), required=True)


class DayBoardSchema(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    days = fields.Integer(required=True)
    timezone = fields.String(required=True)
    generated_at = ParkTime(required=True)
    building = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    spaces = fields.List(
        fields.Nested(BoardSpaceSchema),
        required=True,
        metadata={"description": "every space, also those with nothing booked, by building, floor and code"},
    )


class GateReservationSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(RESERVATION_STATUSES)})
    status_label = Label(RESERVATION_STATUS, attribute="status")
    title = fields.String(required=True)
    start = ParkTime(required=True)
    end = ParkTime(required=True)
    booked_by_name = fields.String(allow_none=True)


class GateVisitorSchema(Schema):
    name = fields.String(required=True)
    company = fields.String(allow_none=True)
    car_plate = fields.String(allow_none=True)
    plate_kind = fields.String(allow_none=True, metadata={"enum": ["mainland", "other", None]})
    plate_kind_label = Label(PLATE_KIND, attribute="plate_kind", allow_none=True)
    reservation = fields.Nested(GateReservationSchema, required=True)
    space = fields.Nested(SpaceSummarySchema, required=True)
    organisation = fields.Nested(BoardOrganisationSchema, required=True)


class GateListSchema(Schema):
    date = fields.Date(required=True)
    timezone = fields.String(required=True)
    generated_at = ParkTime(required=True)
    cars = fields.Integer(required=True, metadata={"description": "visitors with a car plate"})
    visitors = fields.List(fields.Nested(GateVisitorSchema), required=True)


class ExportQuerySchema(Schema):
    from_ = day(required=True, data_key="from", metadata={"description": "first day (park time)"})
    to = day(required=True, metadata={"description": "last day, included; at most 366 days in all"})
    organisation_id = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "staff: one organisation's reservations only"},
    )
    header = _header()
