"""Schemas of quotes: a firm's proposal, the tenant's answer, the quotes of a case."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from services.consulting.rules.names import QUOTE_STATUS
from shared.events.consulting import CURRENCY, QUOTE_STATUSES
from shared.http.fields import OrganisationRefSchema, ParkTime, no_nul
from shared.http.languages import Label
from shared.i18n import _


class Fee(fields.Field[Any]):
    """A fee as the client wrote it: a decimal string (``"12000.00"``, preferred) or a JSON
    number, read digit for digit (``12000.5`` is ``12000.5``, never a binary fraction). What it
    may be is ``rules.check_fee``'s to say (422 ``rule/fee-*``)."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {
            "oneOf": [{"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}, {"type": "number"}],
            "example": "12000.00",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValidationError(_("Not a valid number.").msgid)
        return repr(value) if isinstance(value, float) else str(value)


class QuoteInSchema(Schema):
    fee = Fee(required=True)
    description = fields.String(load_default="", validate=[validate.Length(max=4000), no_nul])


class QuoteRejectSchema(Schema):
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(max=2000), no_nul],
        metadata={"description": "why"},
    )


class QuoteSchema(Schema):
    id = fields.String(required=True)
    case_id = fields.String(required=True)
    firm = fields.Nested(OrganisationRefSchema, required=True, metadata={"description": "the firm that proposed it"})
    fee = fields.Decimal(required=True, as_string=True, places=2, metadata={"example": "12000.00"})
    currency = fields.String(required=True, metadata={"enum": [CURRENCY]})
    description = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(QUOTE_STATUSES)})
    status_label = Label(QUOTE_STATUS, attribute="status")
    proposed_by = fields.String(required=True)
    proposed_by_name = fields.String(allow_none=True, metadata={"description": "as the agent was named then"})
    proposed_at = ParkTime(required=True)
    answered_by = fields.String(allow_none=True)
    answered_by_name = fields.String(allow_none=True, metadata={"description": "as the tenant was named then"})
    answered_at = ParkTime(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "why the tenant rejected it"})
    version = fields.Integer(required=True, metadata={"description": "the quote's ETag, for If-Match"})


class QuoteListSchema(Schema):
    items = fields.List(fields.Nested(QuoteSchema), required=True)
