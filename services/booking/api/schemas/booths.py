"""Schemas of the booths of a hall booking: the booth map, one booth, letting one."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.booking.api.schemas.reservations import ORG_ID
from services.booking.api.schemas.spaces import SpaceSummarySchema
from services.booking.rules.names import RESERVATION_STATUS
from shared.events.booking import RESERVATION_STATUSES
from shared.http.fields import ParkTime, Text, WholeNumber
from shared.http.languages import Label

MAX_BOOTHS = 500
"""A space has at most this many booths (the space schema's limit)."""


class BoothInSchema(Schema):
    booth = WholeNumber(
        required=True,
        validate=validate.Range(min=1, max=MAX_BOOTHS),
        metadata={"description": "the booth's number, 1 to the hall's booths"},
    )
    exhibitor = Text(required=True, validate=validate.Length(min=1, max=200), metadata={"example": "Tianfu Genomics"})
    exhibitor_org_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=ORG_ID,
        metadata={"description": "the exhibitor's organisation, when booking's directory knows it"},
    )
    contact = Text(load_default=None, allow_none=True, validate=validate.Length(max=200))
    note = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class BoothSchema(Schema):
    booth = fields.Integer(required=True)
    let = fields.Boolean(required=True)
    id = fields.String(metadata={"description": "only on a let booth"})
    reservation_id = fields.String()
    exhibitor = fields.String()
    exhibitor_org_id = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    status = fields.String(
        allow_none=True,
        metadata={
            "enum": [*RESERVATION_STATUSES, None],
            "description": "a let booth's state: the hall reservation's (a booth has none of its own); null when free",
        },
    )
    status_label = Label(RESERVATION_STATUS, attribute="status", allow_none=True)
    created_by = fields.String()
    created_at = ParkTime()


class BoothMapSchema(Schema):
    reservation_id = fields.String(required=True)
    space = fields.Nested(SpaceSummarySchema, required=True)
    status = fields.String(required=True, metadata={"enum": list(RESERVATION_STATUSES)})
    status_label = Label(RESERVATION_STATUS, attribute="status")
    booths = fields.Integer(required=True, metadata={"description": "the space's booths (0: none)"})
    let_count = fields.Integer(required=True)
    free_count = fields.Integer(required=True)
    can_let = fields.Boolean(
        required=True,
        metadata={"description": "whether free booths can be let now (the hall holds the space, in booths)"},
    )
    items = fields.List(fields.Nested(BoothSchema), required=True)
