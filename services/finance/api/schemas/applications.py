"""Schemas of applications: the draft, the edit, the actions' bodies, the list's parameters, an
application as read, its audit trail. Money is a decimal string (``"500000.00"``): a JSON number
is refused (422), as a float has lost the fen already."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.finance.api.schemas.valuations import ValuationShownSchema
from services.finance.rules.names import DECLINE_REASON, PRODUCT_KIND, REVIEW_STATUS
from shared.events.finance import APPLICATION_STATUSES, PRODUCT_KINDS, REVIEW_STATUSES
from shared.http.fields import NamedSchema, OrganisationRefSchema, ParkTime, Readable, Text, WholeNumber
from shared.http.languages import Label
from shared.http.pagination import PageArgs

REASON = validate.Length(max=2000)
AMOUNT = validate.Length(min=1, max=40)


def _amount(**kwargs: object) -> fields.String:
    return fields.String(
        validate=AMOUNT,
        metadata={"example": "500000.00", "description": "yuan, a decimal string with at most two places"},
        **kwargs,  # type: ignore[arg-type]
    )


# In ------------------------------------------------------------------------------------------------


class ApplicationInSchema(Schema):
    product_id = fields.UUID(required=True, metadata={"description": "a financing product offered"})
    amount = _amount(required=True)
    term_months = WholeNumber(required=True, metadata={"description": "1 to 360; the product's range at submission"})
    purpose = Text(load_default="", validate=validate.Length(max=4000))
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=64)),
        load_default=dict,
        metadata={"description": "the product's own fields: code → answer"},
    )


class ApplicationEditSchema(Schema):
    amount = _amount()
    term_months = WholeNumber()
    purpose = Text(validate=validate.Length(max=4000))
    answers = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=64)))


class ApplicationReasonSchema(Schema):
    reason = Text(load_default=None, allow_none=True, validate=REASON)


class ApplicationRouteSchema(Schema):
    partner_org_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        required=True,
        validate=validate.Length(max=20),
        metadata={"description": "partners providing the product, not routed to yet"},
    )


class ApplicationQuerySchema(PageArgs):
    status = fields.List(
        fields.String(validate=validate.OneOf(APPLICATION_STATUSES)), metadata={"description": "repeatable"}
    )
    product_id = fields.UUID()
    kind = fields.String(validate=validate.OneOf(PRODUCT_KINDS), metadata={"description": "the product's kind"})
    org_id = fields.String(
        validate=validate.Length(min=1, max=64), metadata={"description": "the tenant's organisation (staff)"}
    )
    q = Text(validate=validate.Length(min=1, max=20), metadata={"description": "a part of the number, any case"})


# Out -----------------------------------------------------------------------------------------------


class ProductRefSchema(NamedSchema):
    id = fields.String(required=True)
    code = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(PRODUCT_KINDS)})
    kind_label = Label(PRODUCT_KIND, attribute="kind")


class ReviewShownSchema(Schema):
    id = fields.String(required=True)
    partner = fields.Nested(OrganisationRefSchema, required=True)
    status = fields.String(required=True, metadata={"enum": list(REVIEW_STATUSES)})
    status_label = Label(REVIEW_STATUS, attribute="status")
    requested = fields.Dict(allow_none=True)
    decline_reason = fields.String(allow_none=True)
    decline_reason_label = Label(DECLINE_REASON, attribute="decline_reason", allow_none=True)
    reason = Readable(allow_none=True)
    routed_at = ParkTime(required=True)
    updated_at = ParkTime(required=True)


class ApplicationSchema(Schema):
    id = fields.String(required=True)
    number = fields.String(required=True, metadata={"example": "F-2026-00042"})
    status = fields.String(required=True, metadata={"enum": list(APPLICATION_STATUSES)})
    status_label = Readable(
        metadata={"description": "the tenant's name of the state for tenants, the staff's for others"}
    )
    product = fields.Nested(ProductRefSchema, required=True)
    product_kind = fields.String(required=True)
    organisation = fields.Nested(OrganisationRefSchema, required=True)
    applicant = fields.String(required=True)
    applicant_name = fields.String(allow_none=True)
    amount = fields.Decimal(required=True, as_string=True, places=2)
    currency = fields.String(required=True)
    term_months = fields.Integer(required=True)
    purpose = fields.String(required=True)
    answers = fields.Dict(required=True)
    profile = fields.Dict(allow_none=True, metadata={"description": "the company profile as it was at submission"})
    reason = fields.String(allow_none=True, metadata={"description": "the reason of the last change that had one"})
    partner_org_ids = fields.List(
        fields.String(), required=True, metadata={"description": "the partners routed to (a partner: itself only)"}
    )
    reviews = fields.List(
        fields.Nested(ReviewShownSchema), required=True, metadata={"description": "a partner reads its own only"}
    )
    accepted_offer_id = fields.String(allow_none=True)
    accepted_partner = fields.Nested(OrganisationRefSchema, allow_none=True)
    documents_count = fields.Integer(required=True)
    valuation = fields.Nested(
        ValuationShownSchema, allow_none=True, metadata={"description": "an IP-pledge loan's latest valuation request"}
    )
    submitted_at = ParkTime(allow_none=True)
    closed_at = ParkTime(allow_none=True)
    created_at = ParkTime(required=True)
    updated_at = ParkTime(required=True)
    actions = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "what the caller may do now (edit: PATCH; others POST /applications/{id}/<action, _ as ->)"
        },
    )
    version = fields.Integer(required=True)


class ApplicationTransitionSchema(Schema):
    subject = fields.String(required=True, metadata={"enum": ["application", "review", "offer"]})
    action = fields.String(required=True)
    action_label = Readable(metadata={"description": "what the line did, in the reader's language"})
    from_status = fields.String(allow_none=True)
    from_status_label = Readable(allow_none=True)
    to_status = fields.String(required=True)
    to_status_label = Readable()
    partner_org_id = fields.String(allow_none=True)
    actor = fields.String(required=True)
    actor_name = Readable(allow_none=True)
    reason = Readable(allow_none=True)
    details = fields.Dict(metadata={"description": "the staff and the tenant; a partner on its own lines only"})
    at = ParkTime(required=True)


class ApplicationHistorySchema(Schema):
    items = fields.List(fields.Nested(ApplicationTransitionSchema), required=True)
