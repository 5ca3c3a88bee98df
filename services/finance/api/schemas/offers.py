"""Schemas of offers: a partner's offer, a bureau's approval, the answers, an offer as read and
the comparison. Money and rates are decimal strings (``"500000.00"``, ``"4.35"``): a JSON number
is refused (422), as a float has lost the fen already."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.finance.rules.cost import REPAYMENT_METHODS
from services.finance.rules.names import OFFER_STATUS, REPAYMENT_METHOD
from shared.events.finance import CURRENCY, OFFER_KINDS, OFFER_STATUSES
from shared.http.fields import OrganisationRefSchema, ParkTime, Readable, Text, WholeNumber, plausible_day
from shared.http.languages import Label

AMOUNT = validate.Length(min=1, max=40)


def _decimal_text(description: str, example: str, **kwargs: object) -> fields.String:
    return fields.String(
        validate=AMOUNT,
        metadata={"example": example, "description": description},
        **kwargs,  # type: ignore[arg-type]
    )


# In ------------------------------------------------------------------------------------------------


class OfferFeeInSchema(Schema):
    kind = fields.String(required=True, metadata={"enum": ["guarantee", "service", "arrangement"]})
    basis = fields.String(required=True, metadata={"enum": ["flat", "percent", "percent_per_year"]})
    value = _decimal_text("yuan for flat, percent otherwise", "1.5", required=True)
    timing = fields.String(required=True, metadata={"enum": ["upfront", "monthly"]})


class OfferInSchema(Schema):
    amount = _decimal_text("yuan with at most two places", "500000.00", required=True)
    annual_rate = _decimal_text("nominal, percent a year, at most four places", "4.35", required=True)
    term_months = WholeNumber(required=True)
    repayment_method = fields.String(required=True, metadata={"enum": list(REPAYMENT_METHODS)})
    fees = fields.List(fields.Nested(OfferFeeInSchema), load_default=list, validate=validate.Length(max=10))
    conditions = Text(load_default=None, allow_none=True, validate=validate.Length(max=4000))
    expires_at = ParkTime(
        required=True,
        validate=plausible_day,
        metadata={"description": "after now, by 2100; the offer cannot be accepted then"},
    )


class ApprovalInSchema(Schema):
    amount = _decimal_text("yuan approved, at most the amount asked for", "300000.00", required=True)
    conditions = Text(load_default=None, allow_none=True, validate=validate.Length(max=4000))


class OfferReasonSchema(Schema):
    reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class OfferQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(OFFER_STATUSES))


# Out -----------------------------------------------------------------------------------------------


def _money(description: str = "yuan", **kwargs: object) -> fields.Decimal:
    metadata = {"example": "500000.00", "description": description}
    return fields.Decimal(as_string=True, places=2, metadata=metadata, **kwargs)  # type: ignore[arg-type]


class OfferFeeSchema(Schema):
    kind = fields.String(required=True)
    basis = fields.String(required=True)
    value = fields.String(required=True)
    timing = fields.String(required=True)


class OfferSchema(Schema):
    id = fields.String(required=True)
    application_id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(OFFER_KINDS)})
    status = fields.String(required=True, metadata={"enum": list(OFFER_STATUSES)})
    status_label = Label(OFFER_STATUS, attribute="status")
    open = fields.Boolean(required=True, metadata={"description": "made and not past its expiry: can be accepted"})
    rank = fields.Integer(allow_none=True, metadata={"description": "1 for the cheapest open offer (comparison)"})
    partner_org_id = fields.String(required=True)
    partner = fields.Nested(OrganisationRefSchema, required=True)
    amount = _money(required=True)
    currency = fields.String(required=True, metadata={"enum": [CURRENCY]})
    annual_rate = fields.Decimal(as_string=True, places=4, allow_none=True, metadata={"description": "nominal, %/year"})
    term_months = fields.Integer(allow_none=True)
    repayment_method = fields.String(allow_none=True, metadata={"enum": list(REPAYMENT_METHODS)})
    repayment_method_label = Label(REPAYMENT_METHOD, attribute="repayment_method", allow_none=True)
    fees = fields.List(fields.Nested(OfferFeeSchema), required=True)
    conditions = fields.String(allow_none=True)
    all_in_rate = fields.Decimal(
        as_string=True, places=2, allow_none=True, metadata={"description": "all-in annual cost (IRR), %/year"}
    )
    effective_annual_rate = fields.Decimal(as_string=True, places=2, allow_none=True)
    total_interest = _money(allow_none=True)
    total_fees = _money(allow_none=True)
    total_cost = _money("interest and every fee", allow_none=True)
    received = _money("what is paid out, up-front fees deducted", allow_none=True)
    monthly_payment = _money("the first month's payment", allow_none=True)
    expires_at = ParkTime(allow_none=True)
    made_by = fields.String(required=True)
    made_by_name = fields.String(allow_none=True)
    made_at = ParkTime(required=True)
    answered_by = fields.String(allow_none=True)
    answered_at = ParkTime(allow_none=True)
    reason = Readable(allow_none=True)
    actions = fields.List(
        fields.String(), required=True, metadata={"description": "the answers the caller may give now"}
    )
    version = fields.Integer(required=True, metadata={"description": "the offer's ETag, for If-Match"})


class ComparisonSchema(Schema):
    application_id = fields.String(required=True)
    accepted_offer_id = fields.String(allow_none=True)
    items = fields.List(fields.Nested(OfferSchema), required=True, metadata={"description": "cheapest all-in first"})
