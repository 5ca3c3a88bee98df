"""Schemas of the financing rounds a roadshow may present."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.booking.api.schemas.reservations import OrganisationRefSchema
from services.booking.api.schemas.spaces import MoneySchema
from services.booking.rules.purposes import FINANCING_KIND, ROUND_KINDS
from shared.http.fields import ParkTime
from shared.http.languages import Label


class FinancingRoundQuerySchema(Schema):
    organisation_id = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={"description": "staff: one organisation's; a tenant's own are the only ones they see"},
    )
    usable = fields.Boolean(metadata={"description": "only the rounds a roadshow may still present"})


class FinancingRoundSchema(Schema):
    application_id = fields.String(required=True, metadata={"description": "a roadshow's purpose_ref"})
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    product_kind = fields.String(required=True, metadata={"enum": list(ROUND_KINDS)})
    product_kind_label = Label(FINANCING_KIND, attribute="product_kind")
    partner = fields.Nested(OrganisationRefSchema, allow_none=True, metadata={"description": "the fund"})
    amount = fields.Nested(MoneySchema, required=True, metadata={"description": "the accepted offer's amount"})
    accepted_at = ParkTime(required=True)
    withdrawn_at = ParkTime(allow_none=True, metadata={"description": "the application was withdrawn or turned down"})
    usable = fields.Boolean(required=True, metadata={"description": "a roadshow may present it"})


class FinancingRoundListSchema(Schema):
    items = fields.List(fields.Nested(FinancingRoundSchema), required=True)
