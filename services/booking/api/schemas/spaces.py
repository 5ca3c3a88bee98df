"""Schemas of spaces, closures, quotas, timelines and availability."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate

from services.booking.api.schemas.texts import LabelMap
from services.booking.rules.intervals import WEEKDAYS
from services.booking.rules.names import (
    ADMIN_ACTION,
    ADMIN_ENTITY,
    APPROVAL_MODE,
    LAYOUT,
    RESERVATION_STATUS,
    SPACE_KIND,
    WEEKDAY,
)
from services.booking.rules.names import (
    EQUIPMENT as EQUIPMENT_LABELS,
)
from shared.events.booking import SPACE_KINDS
from shared.http.display_names import DisplayName
from shared.http.fields import ParkTime, plausible_day
from shared.http.languages import Label
from shared.http.pagination import PageArgs
from shared.i18n import _

LAYOUTS = ("theatre", "classroom", "round_table", "banquet", "u_shape", "boardroom", "cocktail", "booths", "court")
EQUIPMENT = (
    "projector",
    "led_wall",
    "video_conferencing",
    "pa_system",
    "interpretation_booths",
    "wireless_mics",
    "whiteboard",
    "stage_lighting",
    "livestream",
    "recording",
    "booth_power",
    "scoreboard",
    "changing_rooms",
    "tea_service",
)
# Our own field messages are marked texts: a validator's fixed text is found in the catalogues by
# the problem layer (``error=…msgid``), one with values is raised as a message (``ValidationError``).
CLOCK = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$", error=_("A time of day HH:MM (00:00–24:00).").msgid)
CODE = validate.Regexp(
    r"^[a-z0-9][a-z0-9-]{1,59}$",
    error=_("2–60 lower-case letters, digits or '-', starting with a letter or digit.").msgid,
)
MONTH = validate.Regexp(r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])$", error=_("A month as YYYY-MM.").msgid)
Kind = validate.OneOf(SPACE_KINDS)


def moment(**kwargs: Any) -> fields.AwareDateTime:
    """An RFC 3339 instant with its offset (a time without one is refused), 2000-2100."""
    return fields.AwareDateTime(validate=plausible_day, **kwargs)


def day(**kwargs: Any) -> fields.Date:
    return fields.Date(validate=plausible_day, **kwargs)


def amount(*, maximum: int, example: str, **kwargs: Any) -> fields.Decimal:
    """A decimal string (money, a percentage): never a float, two places at most."""

    def in_range(value: Decimal) -> None:
        if not 0 <= value <= maximum:
            raise ValidationError([_("Must be between 0 and {maximum}.", maximum=maximum)])

    return fields.Decimal(
        as_string=True,
        places=2,
        allow_nan=False,
        validate=in_range,
        metadata={"type": "string", "pattern": r"^\d{1,9}(\.\d{1,2})?$", "example": example},
        **kwargs,
    )


class MoneySchema(Schema):
    amount = fields.String(required=True, metadata={"example": "300.00"})
    currency = fields.String(required=True, metadata={"example": "CNY"})


class IntervalSchema(Schema):
    start = ParkTime(required=True)
    end = ParkTime(required=True)


# --- spaces -----------------------------------------------------------------------------------


class PeriodSchema(Schema):
    opens = fields.String(required=True, validate=CLOCK, metadata={"example": "08:00"})
    closes = fields.String(required=True, validate=CLOCK, metadata={"example": "22:00"})


class SpaceRulesSchema(Schema):
    slot_minutes = fields.Integer(required=True, validate=validate.Range(min=5, max=1440))
    min_duration_minutes = fields.Integer(required=True, validate=validate.Range(min=5, max=20160))
    max_duration_minutes = fields.Integer(required=True, validate=validate.Range(min=5, max=20160))
    lead_time_minutes = fields.Integer(required=True, validate=validate.Range(min=0, max=525600))
    horizon_days = fields.Integer(required=True, validate=validate.Range(min=1, max=730))
    setup_minutes = fields.Integer(load_default=0, validate=validate.Range(min=0, max=720))
    cleanup_minutes = fields.Integer(load_default=0, validate=validate.Range(min=0, max=720))
    check_in_opens_minutes = fields.Integer(load_default=15, validate=validate.Range(min=0, max=720))
    check_in_grace_minutes = fields.Integer(load_default=15, validate=validate.Range(min=0, max=720))


class ApprovalSchema(Schema):
    mode = fields.String(required=True, validate=validate.OneOf(("never", "always", "attendees_above")))
    mode_label = Label(APPROVAL_MODE, attribute="mode")
    attendees_above = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=0, max=100000))


class PriceSchema(Schema):
    hourly = amount(required=True, maximum=10**8, example="300.00")
    currency = fields.String(load_default="CNY", validate=validate.Equal("CNY"))


class CancellationSchema(Schema):
    free_until_hours_before = fields.Integer(required=True, validate=validate.Range(min=0, max=8760))
    late_fee_percent = amount(required=True, maximum=100, example="50.00")


class SpaceInSchema(Schema):
    """A space as park admin writes it (PATCH takes any subset)."""

    code = fields.String(required=True, validate=CODE)
    kind = fields.String(required=True, validate=Kind)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_zh = fields.String(required=True, validate=validate.Length(min=1, max=200))
    building = fields.String(required=True, validate=validate.Length(min=1, max=100))
    floor = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=20))
    capacity = fields.Integer(required=True, validate=validate.Range(min=1, max=100000))
    layouts = fields.Dict(
        keys=fields.String(validate=validate.OneOf(LAYOUTS)),
        values=fields.Integer(validate=validate.Range(min=1, max=100000)),
        load_default=dict,
        metadata={"example": {"theatre": 120, "classroom": 60}},
    )
    equipment = fields.List(fields.String(validate=validate.OneOf(EQUIPMENT)), load_default=list)
    description = fields.String(load_default="", validate=validate.Length(max=4000))
    description_zh = fields.String(load_default="", validate=validate.Length(max=4000))
    opening_hours = fields.Dict(
        keys=fields.String(validate=validate.OneOf(WEEKDAYS)),
        values=fields.List(fields.Nested(PeriodSchema)),
        required=True,
        metadata={"description": "Per weekday, in park time (Asia/Shanghai); a missing day is closed."},
    )
    rules = fields.Nested(SpaceRulesSchema, required=True)
    approval = fields.Nested(ApprovalSchema, load_default=lambda: {"mode": "never", "attendees_above": None})
    price = fields.Nested(PriceSchema, required=True)
    cancellation = fields.Nested(
        CancellationSchema, load_default=lambda: {"free_until_hours_before": 24, "late_fee_percent": 50}
    )
    active = fields.Boolean(load_default=True)
    closes_on_public_holidays = fields.Boolean(
        load_default=False,
        metadata={"description": "closed on China's public holidays, open on make-up working days"},
    )
    booths = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "standard booths an organiser may let inside a booking of the whole space"},
    )

    @post_load
    def to_columns(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Flatten into the space's columns. A PATCH loads partially, nested objects included
        (``{"cancellation": {"late_fee_percent": "10"}}``): a column is set only from a member
        that was sent, never read from one that was not (a KeyError, a 500)."""
        columns = {k: v for k, v in data.items() if k not in ("rules", "approval", "price", "cancellation")}
        columns.update(data.get("rules", {}))
        if "opening_hours" in data:
            columns["opening_hours"] = {
                day: [[p["opens"], p["closes"]] for p in periods] for day, periods in data["opening_hours"].items()
            }
        if "approval" in data:
            if "mode" in data["approval"]:
                columns["approval_mode"] = data["approval"]["mode"]
            columns["approval_threshold"] = data["approval"].get("attendees_above")
        if "price" in data:
            if "hourly" in data["price"]:
                columns["hourly_price"] = data["price"]["hourly"]
            columns["currency"] = data["price"].get("currency", "CNY")
        for member, column in (
            ("free_until_hours_before", "free_cancel_hours"),
            ("late_fee_percent", "late_cancel_fee_percent"),
        ):
            if member in data.get("cancellation", {}):
                columns[column] = data["cancellation"][member]
        return columns


class SpacePatchSchema(SpaceInSchema):
    """Any subset of a space's fields (load it with ``partial=True``)."""


class SpaceSummarySchema(Schema):
    id = fields.String(required=True)
    code = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(SPACE_KINDS)})
    kind_label = Label(SPACE_KIND, attribute="kind")
    name = fields.String(required=True)
    name_zh = fields.String(required=True)
    display_name = DisplayName()
    building = fields.String(required=True)
    floor = fields.String(allow_none=True)
    capacity = fields.Integer(required=True)


class SpaceSchema(SpaceSummarySchema):
    layouts = fields.Dict(keys=fields.String(), values=fields.Integer())
    layout_labels = LabelMap(LAYOUT, attribute="layouts")
    equipment = fields.List(fields.String())
    equipment_labels = LabelMap(EQUIPMENT_LABELS, attribute="equipment")
    description = fields.String()
    description_zh = fields.String()
    opening_hours = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(PeriodSchema)))
    weekday_labels = LabelMap(WEEKDAY, attribute="opening_hours")
    timezone = fields.String()
    rules = fields.Nested(SpaceRulesSchema)
    approval = fields.Nested(ApprovalSchema)
    price = fields.Nested(PriceSchema)
    cancellation = fields.Nested(CancellationSchema)
    active = fields.Boolean()
    closes_on_public_holidays = fields.Boolean()
    booths = fields.Integer(allow_none=True)
    version = fields.Integer()


class SpaceQuerySchema(PageArgs):
    kind = fields.List(fields.String(validate=Kind))
    min_capacity = fields.Integer(validate=validate.Range(min=1, max=100000))
    building = fields.String()
    equipment = fields.List(fields.String(validate=validate.OneOf(EQUIPMENT)))
    layout = fields.String(validate=validate.OneOf(LAYOUTS))
    include_inactive = fields.Boolean(load_default=False)


class ClosureInSchema(Schema):
    start = moment(required=True)
    end = moment(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ClosureSchema(Schema):
    id = fields.String(required=True)
    space_id = fields.String(required=True)
    start = ParkTime(required=True)
    end = ParkTime(required=True)
    reason = fields.String(required=True)


class ClosureListSchema(Schema):
    items = fields.List(fields.Nested(ClosureSchema), required=True)


class TimelineQuerySchema(Schema):
    date = day(metadata={"description": "The first day, in park time (default: today)."})
    view = fields.String(load_default="day", validate=validate.OneOf(("day", "week")))


class BusySchema(Schema):
    start = ParkTime(required=True)
    end = ParkTime(required=True)
    hold_start = ParkTime(required=True)
    hold_end = ParkTime(required=True)
    reservation_id = fields.String(metadata={"description": "Only on your organisation's reservations."})
    title = fields.String()
    status = fields.String()
    status_label = Label(RESERVATION_STATUS, attribute="status")
    mine = fields.Boolean()


class TimelineSchema(Schema):
    space = fields.Nested(SpaceSummarySchema, required=True)
    window = fields.Nested(IntervalSchema, required=True)
    timezone = fields.String(required=True)
    open = fields.List(fields.Nested(IntervalSchema), required=True)
    closures = fields.List(fields.Nested(IntervalSchema), required=True)
    busy = fields.List(fields.Nested(BusySchema), required=True)
    free = fields.List(fields.Nested(IntervalSchema), required=True)


class QuotaSchema(Schema):
    org_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "an organisation in booking's directory, or * for every tenant"},
    )
    space_kind = fields.String(required=True, validate=Kind)
    space_kind_label = Label(SPACE_KIND, attribute="space_kind")
    free_hours_per_month = fields.Integer(required=True, validate=validate.Range(min=0, max=744))
    version = fields.Integer(dump_only=True, metadata={"description": "the rule's ETag; send it as If-Match"})


class AdminChangeSchema(Schema):
    entity = fields.String(required=True, metadata={"enum": ["space", "quota"]})
    entity_label = Label(ADMIN_ENTITY, attribute="entity")
    entity_id = fields.String(required=True, metadata={"description": "a space id, or <org_id>/<space_kind>"})
    action = fields.String(
        required=True, metadata={"enum": ["create", "update", "add_closure", "remove_closure", "set"]}
    )
    action_label = Label(ADMIN_ACTION, attribute="action")
    actor = fields.String(required=True)
    actor_name = fields.String(allow_none=True)
    details = fields.Dict(required=True)
    at = ParkTime(required=True)


class AdminHistorySchema(Schema):
    items = fields.List(fields.Nested(AdminChangeSchema), required=True)


class QuotaListSchema(Schema):
    items = fields.List(fields.Nested(QuotaSchema), required=True)


class QuotaUsageQuerySchema(Schema):
    month = fields.String(
        validate=MONTH,
        metadata={"example": "2026-12", "description": "YYYY-MM, a calendar month in park time; default: this month"},
    )
    organisation_id = fields.String(metadata={"description": "staff only; default: your organisation"})


class QuotaUsageSchema(Schema):
    space_kind = fields.String(required=True)
    space_kind_label = Label(SPACE_KIND, attribute="space_kind")
    free_hours_per_month = fields.Integer(required=True, metadata={"description": "the quota rule, in hours"})
    free_minutes = fields.Integer(required=True, metadata={"description": "the month's free time, in minutes"})
    used_minutes = fields.Integer(
        required=True,
        metadata={"description": "minutes taken by the organisation's reservations that start in the month"},
    )
    left_minutes = fields.Integer(required=True, metadata={"description": "free minutes still to use (never below 0)"})


class QuotaUsageListSchema(Schema):
    organisation_id = fields.String(required=True)
    month = fields.String(
        required=True,
        metadata={"example": "2026-12", "description": "the calendar month counted (YYYY-MM, park time)"},
    )
    items = fields.List(fields.Nested(QuotaUsageSchema), required=True)


# --- availability -----------------------------------------------------------------------------


class AvailabilityQuerySchema(PageArgs):
    start = moment(required=True, metadata={"example": "2026-12-01T09:00:00+08:00"})
    end = moment(required=True, metadata={"example": "2026-12-01T18:00:00+08:00"})
    attendees = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    kind = fields.List(fields.String(validate=Kind))
    layout = fields.String(validate=validate.OneOf(LAYOUTS))
    equipment = fields.List(fields.String(validate=validate.OneOf(EQUIPMENT)))
    duration_minutes = fields.Integer(validate=validate.Range(min=1, max=20160))
    space_id = fields.List(fields.UUID())


class AvailableSpaceSchema(Schema):
    space = fields.Nested(SpaceSummarySchema, required=True)
    free = fields.List(fields.Nested(IntervalSchema), required=True)
    free_minutes = fields.Integer(required=True)
    needs_approval = fields.Boolean(
        required=True,
        metadata={
            "description": "whether a booking by the caller, for these attendees, would wait for approval "
            "(never for desk staff and park admin, whose bookings are confirmed at once)"
        },
    )
    hourly_price = fields.Nested(MoneySchema, required=True)


class AvailabilitySchema(Schema):
    window = fields.Nested(IntervalSchema, required=True)
    items = fields.List(fields.Nested(AvailableSpaceSchema), required=True)
    page = fields.Integer(required=True)
    page_size = fields.Integer(required=True)
    total = fields.Integer(required=True)
