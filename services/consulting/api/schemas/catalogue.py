"""Schemas of the catalogue (categories, service items) and the partner firms."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from services.consulting.api.schemas.cases import CategoryRefSchema
from services.consulting.rules.catalogue import CATEGORY_ROUTING, ROUTINGS
from services.consulting.rules.names import CASE_PRIORITY, SLA_CLOCK, SLA_TARGET
from shared.http.display_names import DisplayName
from shared.http.fields import OrganisationRefSchema, ParkTime, Readable, Text
from shared.http.languages import Label

CODE = validate.Regexp(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
MONEY = validate.Regexp(r"^\d{1,10}(\.\d{1,2})?$")
"""An amount of yuan as a field takes it; its limit and places are the fee rule's (rules.lifecycle.check_fee)."""


def _code(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=[validate.Length(min=1, max=64), CODE], metadata={"description": "snake_case"}, **kwargs
    )


def _name(**kwargs: Any) -> fields.String:
    return Text(validate=validate.Length(min=1, max=200), **kwargs)


def _text(**kwargs: Any) -> fields.String:
    return Text(validate=validate.Length(max=5000), **kwargs)


# Categories ------------------------------------------------------------------------------------


class CategoryQuerySchema(Schema):
    active = fields.Boolean(metadata={"description": "staff: only active (true) or inactive (false) categories"})


class CategoryInSchema(Schema):
    code = _code(required=True)
    name = _name(required=True)
    name_zh = _name(required=True)
    description = _text()
    description_zh = _text()
    routing = fields.String(validate=validate.OneOf(ROUTINGS), metadata={"description": "manual (default)"})
    position = fields.Integer(validate=validate.Range(min=0, max=10000))
    active = fields.Boolean()


class CategoryPatchSchema(Schema):
    name = _name()
    name_zh = _name()
    description = _text()
    description_zh = _text()
    routing = fields.String(validate=validate.OneOf(ROUTINGS))
    position = fields.Integer(validate=validate.Range(min=0, max=10000))
    active = fields.Boolean()


class ServingFirmSchema(OrganisationRefSchema):
    status = fields.String(allow_none=True, metadata={"description": "null when the directory does not hold it"})


class CategorySchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_zh = fields.String(required=True)
    display_name = DisplayName()
    description = fields.String(required=True)
    description_zh = fields.String(required=True)
    display_description = DisplayName("description", "description_zh")
    routing = fields.String(required=True, metadata={"enum": list(ROUTINGS)})
    routing_label = Label(CATEGORY_ROUTING, attribute="routing")
    position = fields.Integer(required=True)
    active = fields.Boolean(required=True)
    firms = fields.List(
        fields.Nested(ServingFirmSchema),
        allow_none=True,
        metadata={"description": "the firms serving it: for the park's staff (null for anyone else)"},
    )
    version = fields.Integer(required=True)
    updated_at = ParkTime(required=True)


class CategoryListSchema(Schema):
    items = fields.List(fields.Nested(CategorySchema), required=True)


# Service items ---------------------------------------------------------------------------------


class ItemQuerySchema(Schema):
    category = _code()
    active = fields.Boolean(metadata={"description": "staff: only active (true) or inactive (false) items"})


class ItemFieldsMixin(Schema):
    name = _name()
    name_zh = _name()
    description = _text()
    description_zh = _text()
    intake_fields = fields.List(
        fields.Dict(),
        validate=validate.Length(max=50),
        metadata={"description": "the intake form (docs/CONSULTING.md, 'Intake forms')"},
    )
    fee_guidance = Text(validate=validate.Length(max=1000))
    fee_guidance_zh = Text(validate=validate.Length(max=1000))
    fee_from = fields.String(allow_none=True, validate=MONEY, metadata={"example": "2000.00", "description": "CNY"})
    fee_to = fields.String(allow_none=True, validate=MONEY, metadata={"example": "8000.00", "description": "CNY"})
    quote_required = fields.Boolean()
    sla_policy = fields.Dict(metadata={"description": "warn_share and targets (docs/CONSULTING.md, 'SLA policy')"})
    position = fields.Integer(validate=validate.Range(min=0, max=10000))
    active = fields.Boolean()


class ItemInSchema(ItemFieldsMixin):
    category = _code(required=True)
    code = _code(required=True)
    name = _name(required=True)
    name_zh = _name(required=True)
    sla_policy = fields.Dict(required=True)


class ItemPatchSchema(ItemFieldsMixin):
    category = _code()


class TargetSchema(Schema):
    priority = fields.String(required=True)
    priority_label = Label(CASE_PRIORITY, attribute="priority")
    clock = fields.String(required=True)
    clock_label = Label(SLA_CLOCK, attribute="clock")
    target = fields.String(required=True)
    target_label = Label(SLA_TARGET, attribute="target")
    minutes = fields.Integer(required=True, metadata={"description": "business minutes"})
    text = Readable(required=True, metadata={"description": "the same in words: '4 working hours'"})


class ItemSchema(Schema):
    id = fields.String(required=True)
    category = fields.Nested(
        CategoryRefSchema, required=True, metadata={"description": "its category, as a case names it"}
    )
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_zh = fields.String(required=True)
    display_name = DisplayName()
    description = fields.String(required=True)
    description_zh = fields.String(required=True)
    display_description = DisplayName("description", "description_zh")
    intake_fields = fields.List(fields.Dict(), required=True)
    fee_guidance = fields.String(required=True)
    fee_guidance_zh = fields.String(required=True)
    display_fee_guidance = DisplayName("fee_guidance", "fee_guidance_zh")
    fee_from = fields.Decimal(as_string=True, allow_none=True, metadata={"type": "string", "example": "2000.00"})
    fee_to = fields.Decimal(as_string=True, allow_none=True, metadata={"type": "string", "example": "8000.00"})
    quote_required = fields.Boolean(required=True)
    sla_policy = fields.Dict(
        allow_none=True, metadata={"description": "the whole policy, for the park's staff (null for anyone else)"}
    )
    targets = fields.List(
        fields.Nested(TargetSchema),
        required=True,
        metadata={"description": "the targets on the clocks the reader sees: a tenant the tenant's alone"},
    )
    position = fields.Integer(required=True)
    active = fields.Boolean(required=True)
    version = fields.Integer(required=True)
    updated_at = ParkTime(required=True)


class ItemListSchema(Schema):
    items = fields.List(fields.Nested(ItemSchema), required=True)


# Firms -----------------------------------------------------------------------------------------


class ServedCategorySchema(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_zh = fields.String(required=True)
    display_name = DisplayName()
    active = fields.Boolean(required=True)
    declared_by = fields.String(required=True)
    declared_at = ParkTime(required=True)


class FirmSchema(OrganisationRefSchema):
    kind = fields.String(required=True)
    kind_label = Label("organisation-kind", attribute="kind")
    status = fields.String(required=True)
    status_label = Label("organisation-status", attribute="status")
    categories = fields.List(fields.Nested(ServedCategorySchema), required=True)
    open_cases = fields.Integer(
        required=True, metadata={"description": "cases assigned to it, not closed or cancelled"}
    )
    version = fields.Integer(
        required=True,
        metadata={"description": "of its declaration (a checksum of its category codes; 0: none): the ETag"},
    )


class FirmListSchema(Schema):
    items = fields.List(fields.Nested(FirmSchema), required=True)


class DeclareInSchema(Schema):
    categories = fields.List(_code(), required=True, validate=validate.Length(max=100))
