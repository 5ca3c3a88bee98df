"""Schemas of reservations, their actions, series, feeds and reports."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate

from services.booking.api.schemas.spaces import LAYOUTS, IntervalSchema, MoneySchema, SpaceSummarySchema, day, moment
from services.booking.api.schemas.texts import Reason
from services.booking.rules.names import (
    FEED_SCOPE,
    LAYOUT,
    PLATE_KIND,
    RESERVATION_ACTION,
    RESERVATION_STATUS,
    SERIES_MODE,
    SERIES_OUTCOME,
    SERIES_STATUS,
    SPACE_KIND,
)
from services.booking.rules.plates import PLATE_KINDS, car_plate
from services.booking.rules.purposes import RESERVATION_PURPOSE
from shared.errors import RuleViolation
from shared.events.booking import PURPOSES, RESERVATION_STATUSES, SPACE_KINDS
from shared.http.display_names import DisplayName
from shared.http.fields import ParkTime, Readable, Text, WholeNumber
from shared.http.languages import Label
from shared.http.pagination import PageArgs

ORG_ID = validate.Length(min=1, max=64)


class VisitorSchema(Schema):
    """A visitor as given. A car plate is a mainland plate unless ``plate_kind`` is ``other``;
    it is stored as :func:`services.booking.rules.plates.car_plate` spells it."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    company = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    car_plate = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=40),
        metadata={
            "example": "川A12345",
            "description": "a mainland plate (spaces, dots and case do not matter), or any plate with plate_kind other",
        },
    )
    plate_kind = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(PLATE_KINDS),
        metadata={
            "description": "mainland (the default with a plate) or other: foreign, Hong Kong, Macao, military, "
            "embassy…, kept as given"
        },
    )

    @post_load
    def checked_plate(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if data.get("car_plate") is None:
            return {**data, "plate_kind": None}  # no car, no kind
        try:
            plate = car_plate(data["car_plate"], data.get("plate_kind"))
        except RuleViolation as refused:
            raise ValidationError([refused.detail], field_name="car_plate") from None
        return {**data, "car_plate": plate.text, "plate_kind": plate.kind}


class VisitorViewSchema(Schema):
    name = fields.String(required=True)
    company = fields.String(allow_none=True)
    car_plate = fields.String(allow_none=True, metadata={"example": "川A12345"})
    plate_kind = fields.String(allow_none=True, metadata={"enum": [*PLATE_KINDS, None]})
    plate_kind_label = Label(PLATE_KIND, attribute="plate_kind", allow_none=True)


class ReservationInSchema(Schema):
    space_id = fields.UUID(required=True)
    start = moment(required=True, metadata={"example": "2026-12-01T10:00:00+08:00"})
    end = moment(required=True, metadata={"example": "2026-12-01T12:00:00+08:00"})
    title = Text(required=True, validate=validate.Length(min=1, max=200))
    attendees = WholeNumber(required=True, validate=validate.Range(min=1, max=100000))
    layout = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LAYOUTS))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    visitors = fields.List(fields.Nested(VisitorSchema), load_default=list, validate=validate.Length(max=500))
    organisation_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=ORG_ID,
        metadata={"description": "desk staff booking for an organisation in booking's directory"},
    )
    purpose = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(PURPOSES),
        metadata={
            "description": "an event booking in the exhibition hall or the design release square: a financing "
            "roadshow or a product launch; always needs desk approval"
        },
    )
    purpose_ref = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "a roadshow's financing round: the application_id of GET /financing-rounds "
            "(an accepted venture-capital or guide-fund offer of the organisation)"
        },
    )


class SeriesInSchema(ReservationInSchema):
    class Meta:
        exclude = ("purpose", "purpose_ref")  # an event booking is one reservation, not a series

    rrule = fields.String(
        required=True,
        validate=validate.Length(min=6, max=500),
        metadata={"description": "RFC 5545 RRULE, read in park time", "example": "FREQ=WEEKLY;BYDAY=TU;COUNT=10"},
    )
    mode = fields.String(load_default="all_or_nothing", validate=validate.OneOf(("all_or_nothing", "skip_conflicts")))


class ReasonSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class RescheduleSchema(ReasonSchema):
    start = moment(required=True)
    end = moment(required=True)
    space_id = fields.UUID(load_default=None, allow_none=True, metadata={"description": "move to another space"})


class ReservationPatchSchema(Schema):
    """A JSON merge patch (RFC 7396) of a reservation's details: a field left out stays as it
    is, ``null`` clears the layout, the note or the visitors. Any other field (time, space) is
    refused: a reschedule moves a reservation."""

    title = Text(validate=validate.Length(min=1, max=200))
    attendees = WholeNumber(validate=validate.Range(min=1, max=100000))
    layout = fields.String(allow_none=True, validate=validate.OneOf(LAYOUTS))
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))
    visitors = fields.List(
        fields.Nested(VisitorSchema),
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "the whole new list (null or [] for none)"},
    )


class VisitorsInSchema(Schema):
    visitors = fields.List(fields.Nested(VisitorSchema), required=True, validate=validate.Length(max=500))


class SeriesCancelSchema(ReasonSchema):
    from_reservation_id = fields.UUID(
        load_default=None, allow_none=True, metadata={"description": "this occurrence and the ones after it"}
    )


class SeriesMoveSchema(Schema):
    from_reservation_id = fields.UUID(load_default=None, allow_none=True)
    shift_minutes = WholeNumber(
        load_default=0,
        validate=validate.Range(min=-10080, max=10080),
        metadata={"description": "non-zero, unless the series moves to another space"},
    )
    space_id = fields.UUID(load_default=None, allow_none=True)
    mode = fields.String(load_default="all_or_nothing", validate=validate.OneOf(("all_or_nothing", "skip_conflicts")))


class OrganisationRefSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(allow_none=True)


class CheckInSchema(Schema):
    opens_at = ParkTime(required=True)
    closes_at = ParkTime(required=True)
    checked_in_at = ParkTime(allow_none=True)


class ReservationSchema(Schema):
    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(RESERVATION_STATUSES)})
    status_label = Label(RESERVATION_STATUS, attribute="status")
    space = fields.Nested(SpaceSummarySchema, required=True)
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    booked_by = fields.String(required=True)
    booked_by_name = fields.String(allow_none=True)
    title = fields.String(required=True)
    attendees = fields.Integer(required=True)
    layout = fields.String(allow_none=True)
    layout_label = Label(LAYOUT, attribute="layout", allow_none=True)
    note = fields.String(allow_none=True)
    start = ParkTime(required=True)
    end = ParkTime(required=True)
    hold = fields.Nested(IntervalSchema, required=True, metadata={"description": "with setup and cleanup"})
    price = fields.Nested(MoneySchema, required=True)
    quota_minutes = fields.Integer(required=True, metadata={"description": "minutes taken from the free quota"})
    billable_minutes = fields.Integer(required=True)
    cancellation_fee = fields.Nested(MoneySchema, allow_none=True)
    check_in = fields.Nested(CheckInSchema, required=True)
    series_id = fields.String(allow_none=True)
    occurrence = fields.Integer(allow_none=True, metadata={"description": "its index in the series, from 0"})
    request_id = fields.String(allow_none=True)
    purpose = fields.String(allow_none=True, metadata={"enum": [*PURPOSES, None]})
    purpose_label = Label(RESERVATION_PURPOSE, attribute="purpose", allow_none=True)
    purpose_ref = fields.String(allow_none=True, metadata={"description": "a roadshow's financing application"})
    reason = Reason(allow_none=True, metadata={"description": "why it was rejected, cancelled or released"})
    visitors = fields.List(fields.Nested(VisitorViewSchema), required=True)
    can_manage = fields.Boolean(required=True)
    version = fields.Integer(required=True)
    created_at = ParkTime(required=True)
    updated_at = ParkTime(required=True)


class ReservationQuerySchema(PageArgs):
    scope = fields.String(validate=validate.OneOf(("mine", "organisation", "all")))
    status = fields.List(fields.String(validate=validate.OneOf(RESERVATION_STATUSES)))
    space_id = fields.UUID()
    series_id = fields.UUID()
    from_ = moment(data_key="from", metadata={"description": "ending after"})
    to = moment(metadata={"description": "starting before"})
    organisation_id = fields.String(metadata={"description": "staff only, with scope=all"})
    purpose = fields.String(
        validate=validate.OneOf((*PURPOSES, "none")),
        metadata={"description": "event bookings of this purpose (roadshow, product_launch), or none"},
    )
    order = fields.String(load_default="asc", validate=validate.OneOf(("asc", "desc")))
    q = Text(
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "search: a part of the organisation's name (English or Chinese), the title or "
            "the booker's name, any case; within what the caller may list"
        },
    )


class TransitionSchema(Schema):
    action = fields.String(required=True)
    action_label = Label(RESERVATION_ACTION, attribute="action")
    from_status = fields.String(allow_none=True)
    from_status_label = Label(RESERVATION_STATUS, attribute="from_status", allow_none=True)
    to_status = fields.String(required=True)
    to_status_label = Label(RESERVATION_STATUS, attribute="to_status")
    actor = fields.String(required=True)
    actor_name = fields.String(allow_none=True)
    reason = Reason(allow_none=True)
    details = fields.Dict()
    at = ParkTime(required=True)


class HistorySchema(Schema):
    items = fields.List(fields.Nested(TransitionSchema), required=True)


class ProblemRefSchema(Schema):
    code = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = Readable(required=True)


class OccurrenceSchema(Schema):
    index = fields.Integer(required=True, metadata={"description": "the occurrence's place in its series, from 0"})
    start = ParkTime(required=True)
    end = ParkTime(required=True)
    outcome = fields.String(required=True, metadata={"enum": ["booked", "moved", "conflict", "refused", "cancelled"]})
    outcome_label = Label(SERIES_OUTCOME, attribute="outcome")
    reservation_id = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    status_label = Label(RESERVATION_STATUS, attribute="status", allow_none=True)
    problem = fields.Nested(ProblemRefSchema, allow_none=True)


class SeriesOutcomeSchema(Schema):
    series_id = fields.String(required=True)
    version = fields.Integer(required=True)
    occurrences = fields.List(fields.Nested(OccurrenceSchema), required=True)


class SeriesSchema(Schema):
    id = fields.String(required=True)
    space_id = fields.String(required=True)
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    booked_by = fields.String(required=True)
    rrule = fields.String(required=True)
    first_start = ParkTime(required=True)
    first_end = ParkTime(required=True)
    mode = fields.String(required=True)
    mode_label = Label(SERIES_MODE, attribute="mode")
    title = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["active", "cancelled"]})
    status_label = Label(SERIES_STATUS, attribute="status")
    version = fields.Integer(required=True)
    occurrences = fields.List(fields.Nested(ReservationSchema), required=True)


class FeedSchema(Schema):
    url = fields.String(required=True, metadata={"description": "subscribe to it; no bearer token needed"})
    scope = fields.String(required=True, metadata={"enum": ["space", "organisation"]})
    scope_label = Label(FEED_SCOPE, attribute="scope")
    owner_id = fields.String(required=True)


class ReportQuerySchema(Schema):
    from_ = day(required=True, data_key="from", metadata={"description": "first day (park time)"})
    to = day(required=True, metadata={"description": "last day, included"})
    kind = fields.String(validate=validate.OneOf(SPACE_KINDS))


class _UsageSchema(Schema):
    open_hours = fields.Float(required=True)
    booked_hours = fields.Float(required=True)
    utilisation = fields.Float(allow_none=True, metadata={"description": "booked / open hours"})
    reservations = fields.Integer(required=True)
    no_shows = fields.Integer(required=True)
    no_show_rate = fields.Float(allow_none=True)


class SpaceUtilisationSchema(_UsageSchema):
    space_id = fields.String(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_zh = fields.String(required=True)
    display_name = DisplayName()
    kind = fields.String(required=True)
    kind_label = Label(SPACE_KIND, attribute="kind")


class KindUtilisationSchema(_UsageSchema):
    kind = fields.String(required=True)
    kind_label = Label(SPACE_KIND, attribute="kind")
    spaces = fields.Integer(required=True)


class UtilisationSchema(Schema):
    from_ = day(required=True, data_key="from")
    to = fields.Date(required=True)
    timezone = fields.String(required=True)
    spaces = fields.List(fields.Nested(SpaceUtilisationSchema), required=True)
    kinds = fields.List(fields.Nested(KindUtilisationSchema), required=True)
