"""Schemas of the financing products and the company profiles. Money is a decimal string
(``"500000.00"``; a JSON number is refused), rates a decimal string of percent, times RFC 3339
with their offset (answered in park time)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from services.finance.rules.cost import REPAYMENT_METHODS
from services.finance.rules.names import FEE_BASIS, FEE_KIND, FEE_TIMING, PRODUCT_KIND, REPAYMENT_METHOD, WINDOW_STATE
from services.finance.rules.products import MAX_GRACE_DAYS, PRODUCT_KINDS, WINDOW_STATES
from shared.http.display_names import DisplayName
from shared.http.fields import OrganisationRefSchema, ParkTime, Readable, Text, WholeNumber
from shared.http.languages import Label

CODE = validate.Regexp(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
PROVIDER_ROLES = ("lender", "guarantor", "investor", "lessor", "grantor")
"""What a provider does in a product, when several take part."""
SECTOR = validate.Regexp(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def _code(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=[validate.Length(min=1, max=64), CODE], metadata={"description": "snake_case"}, **kwargs
    )


def _name(**kwargs: Any) -> fields.String:
    return Text(validate=validate.Length(min=1, max=200), **kwargs)


def _text(**kwargs: Any) -> fields.String:
    return Text(validate=validate.Length(max=5000), **kwargs)


def _money(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Length(max=30),
        metadata={"example": "500000.00", "description": "CNY, a decimal string"},
        **kwargs,
    )


def _percent(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Length(max=20),
        metadata={"example": "4.35", "description": "percent per year, a decimal string"},
        **kwargs,
    )


def _months(**kwargs: Any) -> WholeNumber:
    return WholeNumber(metadata={"description": "months"}, **kwargs)


# In ----------------------------------------------------------------------------------------------


class ProductQuerySchema(Schema):
    kind = fields.String(validate=validate.OneOf(PRODUCT_KINDS))
    active = fields.Boolean(metadata={"description": "staff: only active (true) or inactive (false) products"})


class ProductChecklistItemSchema(Schema):
    type = _code(required=True)
    name = _name(required=True)
    name_zh = _name(required=True)
    required = fields.Boolean(required=True)


class ProductWindowInSchema(Schema):
    opens_at = fields.String(required=True, metadata={"example": "2026-03-01T09:00:00+08:00"})
    closes_at = fields.String(required=True, metadata={"example": "2026-04-30T17:00:00+08:00"})
    grace_days = fields.Raw(metadata={"description": f"0-{MAX_GRACE_DAYS} (0 when left out)"})


class ProductProviderInSchema(Schema):
    org_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    role = fields.String(allow_none=True, validate=validate.OneOf(PROVIDER_ROLES))


class ProductFieldsMixin(Schema):
    kind = fields.String(validate=validate.OneOf(PRODUCT_KINDS))
    name = _name()
    name_zh = _name()
    description = _text()
    description_zh = _text()
    amount_min = _money()
    amount_max = _money()
    term_min = _months()
    term_max = _months()
    rate_min = _percent(allow_none=True)
    rate_max = _percent(allow_none=True)
    repayment_method = fields.String(allow_none=True, validate=validate.OneOf(REPAYMENT_METHODS))
    fees = fields.List(fields.Raw(), validate=validate.Length(max=20), metadata={"description": "rules.cost.Fee"})
    eligibility = fields.Dict(metadata={"description": "docs/FINANCE.md, 'Products and eligibility'"})
    checklist = fields.List(fields.Nested(ProductChecklistItemSchema), validate=validate.Length(max=50))
    window = fields.Nested(ProductWindowInSchema, allow_none=True, metadata={"description": "a subsidy call's"})
    providers = fields.List(fields.Nested(ProductProviderInSchema), validate=validate.Length(max=50))
    position = fields.Integer(validate=validate.Range(min=0, max=10000))
    active = fields.Boolean()


class ProductInSchema(ProductFieldsMixin):
    code = _code(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(PRODUCT_KINDS))
    name = _name(required=True)
    name_zh = _name(required=True)
    amount_min = _money(required=True)
    amount_max = _money(required=True)
    term_min = _months(required=True)
    term_max = _months(required=True)


class ProductPatchSchema(ProductFieldsMixin):
    pass


class ProfileInSchema(Schema):
    sector = fields.String(allow_none=True, validate=[validate.Length(min=1, max=64), SECTOR])
    moved_in_on = fields.Date(allow_none=True)
    annual_revenue = _money(allow_none=True)
    employees = WholeNumber(allow_none=True, validate=validate.Range(min=0, max=10_000_000))
    granted_patents = WholeNumber(allow_none=True, validate=validate.Range(min=0, max=1_000_000))
    credit_code = fields.String(allow_none=True, validate=validate.Length(max=40))


# Out ---------------------------------------------------------------------------------------------


class ProductAmountRangeSchema(Schema):
    min = fields.String(required=True)
    max = fields.String(required=True)
    currency = fields.String(required=True)


class ProductTermRangeSchema(Schema):
    min = fields.Integer(required=True)
    max = fields.Integer(required=True)


class ProductRateRangeSchema(Schema):
    min = fields.String(required=True)
    max = fields.String(required=True)


class ProductFeeSchema(Schema):
    kind = fields.String(required=True)
    kind_label = Label(FEE_KIND, attribute="kind")
    basis = fields.String(required=True)
    basis_label = Label(FEE_BASIS, attribute="basis")
    value = fields.String(required=True, metadata={"description": "yuan (flat) or percent"})
    timing = fields.String(required=True)
    timing_label = Label(FEE_TIMING, attribute="timing")


class ProductChecklistItemOutSchema(ProductChecklistItemSchema):
    display_name = DisplayName()


class ProductWindowSchema(Schema):
    opens_at = ParkTime(required=True)
    closes_at = ParkTime(required=True)
    grace_days = fields.Integer(required=True)
    grace_ends_at = ParkTime(required=True)
    state = fields.String(required=True, metadata={"enum": list(WINDOW_STATES), "description": "now"})
    state_label = Label(WINDOW_STATE, attribute="state")


class ProductProviderSchema(OrganisationRefSchema):
    role = fields.String(allow_none=True, metadata={"enum": list(PROVIDER_ROLES)})


class ProductExampleCostSchema(Schema):
    amount = fields.String(required=True)
    currency = fields.String(required=True)
    term_months = fields.Integer(required=True)
    nominal_rate = fields.String(required=True, metadata={"description": "the middle of the rate range"})
    repayment_method = fields.String(required=True)
    repayment_method_label = Label(REPAYMENT_METHOD, attribute="repayment_method")
    annual_rate = fields.String(required=True, metadata={"description": "the all-in annual cost, percent"})
    effective_annual_rate = fields.String(required=True)
    received = fields.String(required=True)
    total_interest = fields.String(required=True)
    total_fees = fields.String(required=True)
    total_cost = fields.String(required=True)


class ProductSchema(Schema):
    id = fields.String(required=True)
    code = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(PRODUCT_KINDS)})
    kind_label = Label(PRODUCT_KIND, attribute="kind")
    name = fields.String(required=True)
    name_zh = fields.String(required=True)
    display_name = DisplayName()
    description = fields.String(required=True)
    description_zh = fields.String(required=True)
    display_description = DisplayName("description", "description_zh")
    amount = fields.Nested(ProductAmountRangeSchema, required=True)
    term_months = fields.Nested(ProductTermRangeSchema, required=True)
    rate = fields.Nested(ProductRateRangeSchema, allow_none=True, metadata={"description": "null: no rate (a subsidy)"})
    repayment_method = fields.String(allow_none=True)
    repayment_method_label = Label(REPAYMENT_METHOD, attribute="repayment_method", allow_none=True)
    fees = fields.List(fields.Nested(ProductFeeSchema), required=True)
    eligibility = fields.Dict(required=True)
    eligibility_text = fields.List(Readable(), required=True, metadata={"description": "each rule in words"})
    checklist = fields.List(fields.Nested(ProductChecklistItemOutSchema), required=True)
    window = fields.Nested(ProductWindowSchema, allow_none=True)
    providers = fields.List(fields.Nested(ProductProviderSchema), required=True)
    example_cost = fields.Nested(
        ProductExampleCostSchema,
        allow_none=True,
        metadata={"description": "the all-in annual cost of a typical request, to compare products (null: no rate)"},
    )
    active = fields.Boolean(required=True)
    position = fields.Integer(required=True)
    version = fields.Integer(required=True)
    updated_at = ParkTime(required=True)


class ProductListSchema(Schema):
    items = fields.List(fields.Nested(ProductSchema), required=True)


class ProfileSchema(Schema):
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    sector = fields.String(allow_none=True)
    moved_in_on = fields.Date(allow_none=True)
    annual_revenue = fields.String(allow_none=True, metadata={"example": "12000000.00"})
    employees = fields.Integer(allow_none=True)
    granted_patents = fields.Integer(allow_none=True)
    credit_code = fields.String(allow_none=True)
    version = fields.Integer(required=True, metadata={"description": "0: not written yet"})
    updated_by = fields.String(allow_none=True)
    updated_at = ParkTime(allow_none=True)
