"""Schemas of an application's documents (the checklist beside them), its patents with their
pre-check, its valuation and pledge."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.http.fields import ParkTime, Readable, Text, WholeNumber

MONEY_EXAMPLE = "1200000.00"


def _money(**kwargs: object) -> fields.Decimal:
    return fields.Decimal(as_string=True, places=2, metadata={"example": MONEY_EXAMPLE}, **kwargs)  # type: ignore[arg-type]


class DocumentSchema(Schema):
    id = fields.String(required=True)
    application_id = fields.String(required=True)
    doc_type = fields.String(required=True, metadata={"description": "a type of the product's checklist"})
    filename = fields.String(required=True, metadata={"example": "营业执照.pdf"})
    content_type = fields.String(required=True, metadata={"description": "what the bytes are, by their content"})
    size = fields.Integer(required=True, metadata={"description": "bytes"})
    sha256 = fields.String(required=True, metadata={"description": "hex; the download's ETag"})
    uploaded_by = fields.String(required=True)
    uploaded_by_name = fields.String(allow_none=True)
    uploaded_at = ParkTime(required=True)
    review_id = fields.String(
        allow_none=True, metadata={"description": "the partner's review whose request for information it answers"}
    )
    url = fields.String(required=True, metadata={"description": "where to download it (the bearer token needed)"})


class ChecklistItemSchema(Schema):
    type = fields.String(required=True)
    name = fields.String(allow_none=True)
    name_zh = fields.String(allow_none=True)
    required = fields.Boolean(required=True)
    present = fields.Boolean(required=True)
    count = fields.Integer(required=True)


class DocumentsSchema(Schema):
    items = fields.List(fields.Nested(DocumentSchema), required=True)
    checklist = fields.List(fields.Nested(ChecklistItemSchema), required=True)
    missing = fields.List(fields.String(), required=True, metadata={"description": "required types without one"})
    requested = fields.List(
        fields.String(), required=True, metadata={"description": "types partners' open requests ask for"}
    )
    complete = fields.Boolean(required=True, metadata={"description": "every required type is present"})


class PatentInSchema(Schema):
    """A patent pledged: its number as written (``ZL202010566088.9``; spaces, full-width digits
    and ``CN`` are read), as registered at CNIPA."""

    number = Text(required=True, validate=validate.Length(min=1, max=40), metadata={"example": "ZL202010566088.9"})
    title = Text(required=True, validate=validate.Length(min=1, max=300))
    holder = Text(required=True, validate=validate.Length(min=1, max=200), metadata={"description": "as registered"})
    granted_on = fields.Date(load_default=None, allow_none=True, metadata={"description": "null: not granted yet"})
    expires_on = fields.Date(required=True)
    fees_paid_until = fields.Date(load_default=None, allow_none=True, metadata={"description": "annual fees"})
    existing_pledges = WholeNumber(
        load_default=0, validate=validate.Range(min=0, max=99), metadata={"description": "pledges still in force"}
    )


class PatentFailureSchema(Schema):
    code = fields.String(required=True, metadata={"example": "rule/patent-fees-unpaid"})
    message = Readable(required=True)
    patent = fields.String(allow_none=True)


class PatentCheckSchema(Schema):
    ok = fields.Boolean(required=True, metadata={"description": "the registration would refuse nothing"})
    failures = fields.List(fields.Nested(PatentFailureSchema), required=True)


class PatentSchema(Schema):
    id = fields.String(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    holder = fields.String(required=True)
    granted_on = fields.Date(allow_none=True)
    expires_on = fields.Date(allow_none=True)
    fees_paid_until = fields.Date(allow_none=True)
    existing_pledges = fields.Integer(required=True)
    check = fields.Nested(PatentCheckSchema, required=True)


class PatentsSchema(Schema):
    items = fields.List(fields.Nested(PatentSchema), required=True)
    ok = fields.Boolean(required=True)
    failures = fields.List(fields.Nested(PatentFailureSchema), required=True, metadata={"description": "all"})


class ValuationRequestSchema(Schema):
    appraiser_org_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "an IP agency of the park's directory; null: the desk chooses later"},
    )


class ValuationInSchema(Schema):
    amount = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "yuan as a decimal string", "example": "2500000.00"},
    )
    appraiser_org_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))


class PledgeInSchema(Schema):
    number = Text(required=True, validate=validate.Length(min=1, max=64), metadata={"description": "CNIPA's"})
    registered_on = fields.Date(required=True)


class PledgeSchema(Schema):
    """An IP-pledge application's valuation and pledge."""

    application_id = fields.String(required=True)
    amount = _money(required=True)
    currency = fields.Constant("CNY")
    valuation_amount = _money(allow_none=True)
    valuation_by = fields.String(allow_none=True, metadata={"description": "the appraisal firm's organisation"})
    loan_to_value = fields.Decimal(
        as_string=True, places=2, allow_none=True, metadata={"description": "percent", "example": "48.00"}
    )
    pledge_number = fields.String(allow_none=True)
    pledge_registered_on = fields.Date(allow_none=True)
    pledge_released_on = fields.Date(allow_none=True)
    version = fields.Integer(required=True)
