"""Schemas of the payouts: the contract, a tranche recorded and approved, the application's
payouts. Money is a decimal string with two places (a JSON number is refused: 422)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.finance.queries.payouts import DISBURSEMENT_STATUSES
from services.finance.rules.names import APPLICATION_STATUS
from shared.events.finance import APPLICATION_STATUSES
from shared.http.fields import ParkTime, Readable, Text, plausible_day
from shared.http.languages import Label

_MONEY = {"type": "string", "pattern": r"^\d+\.\d{2}$", "examples": ["500000.00"]}

# In ------------------------------------------------------------------------------------------------


class ContractInSchema(Schema):
    contract_number = Text(required=True, validate=validate.Length(min=1, max=64))
    signed_on = fields.Date(
        required=True, validate=plausible_day, metadata={"description": "the park day it was signed; not in the future"}
    )


class DisbursementInSchema(Schema):
    amount = Text(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": 'yuan as a decimal string with at most two places, such as "200000.00"'},
    )
    disbursed_on = fields.Date(
        required=True, validate=plausible_day, metadata={"description": "the park day it was paid; not in the future"}
    )
    reference = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=100),
        metadata={"description": "the bank's or the treasury's reference of the transfer"},
    )


# Out -----------------------------------------------------------------------------------------------


class DisbursementSchema(Schema):
    id = fields.UUID(required=True)
    application_id = fields.UUID(required=True)
    application_status = fields.String(required=True, metadata={"enum": list(APPLICATION_STATUSES)})
    application_status_label = Label(APPLICATION_STATUS, attribute="application_status")
    number = fields.Integer(required=True, metadata={"description": "1 for the first tranche"})
    amount = fields.String(required=True, metadata=_MONEY)
    currency = fields.String(required=True)
    disbursed_on = fields.Date(required=True)
    reference = fields.String(allow_none=True)
    status = fields.String(
        required=True,
        metadata={
            "enum": list(DISBURSEMENT_STATUSES),
            "description": "pending until a second person approves it; only approved tranches count",
        },
    )
    recorded_by = fields.String(required=True)
    recorded_by_name = fields.String(allow_none=True)
    recorded_at = ParkTime(required=True)
    approved_by = fields.String(allow_none=True)
    approved_by_name = fields.String(allow_none=True)
    approved_at = ParkTime(allow_none=True)
    version = fields.Integer(required=True, metadata={"description": "the tranche's ETag"})


class PayoutsSchema(Schema):
    application_id = fields.UUID(required=True)
    status = fields.String(required=True, metadata={"enum": list(APPLICATION_STATUSES)})
    status_label = Readable(metadata={"description": "the status as the reader names it (a tenant: the tenant's name)"})
    product_kind = fields.String(required=True)
    currency = fields.String(required=True)
    accepted_amount = fields.String(required=True, metadata=_MONEY)
    disbursed_total = fields.String(required=True, metadata={**_MONEY, "description": "approved tranches"})
    pending_total = fields.String(required=True, metadata={**_MONEY, "description": "tranches awaiting approval"})
    remaining = fields.String(required=True, metadata=_MONEY)
    contract_number = fields.String(allow_none=True)
    contract_signed_on = fields.Date(allow_none=True)
    pledge_number = fields.String(allow_none=True)
    pledge_released_on = fields.Date(allow_none=True)
    closed_at = ParkTime(allow_none=True)
    items = fields.List(fields.Nested(DisbursementSchema), required=True)
    version = fields.Integer(required=True, metadata={"description": "the application's ETag"})
