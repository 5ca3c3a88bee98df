"""Schemas of a case's thread: a message in (JSON or the fields of a multipart form), messages
and their attachments out."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.consulting.permissions import MESSAGE_VISIBILITIES
from services.consulting.rules.names import MESSAGE_AUTHOR_SIDE, MESSAGE_VISIBILITY
from shared.http.fields import ParkTime, Readable, no_nul
from shared.http.languages import Label

MAX_BODY = 20000
"""Characters of a message's text."""


class MessageInSchema(Schema):
    """A message: its text and who reads it (``tenant`` by default: the tenant, the firm and the
    staff; ``desk``: the staff only; ``firm``: the firm and the staff). Files come as the
    ``file`` parts of a ``multipart/form-data`` request with these two fields."""

    # As written (spaces kept: a person's words), but never with a NUL (PostgreSQL stores none).
    body = fields.String(load_default="", validate=[validate.Length(max=MAX_BODY), no_nul])
    visibility = fields.String(load_default="tenant", validate=validate.OneOf(MESSAGE_VISIBILITIES))


class MessageAttachmentSchema(Schema):
    id = fields.String(required=True)
    filename = fields.String(required=True, metadata={"example": "合同草案.pdf"})
    content_type = fields.String(required=True, metadata={"description": "what the bytes are, by their content"})
    size = fields.Integer(required=True, metadata={"description": "bytes"})
    sha256 = fields.String(required=True, metadata={"description": "hex; the download's ETag"})
    url = fields.String(required=True, metadata={"description": "where to download it (the bearer token needed)"})


class MessageSchema(Schema):
    id = fields.String(required=True)
    case_id = fields.String(required=True)
    visibility = fields.String(required=True, metadata={"enum": list(MESSAGE_VISIBILITIES)})
    visibility_label = Label(MESSAGE_VISIBILITY, attribute="visibility")
    body = Readable(
        required=True,
        metadata={"description": "the author's words; a note the service wrote, in the reader's language"},
    )
    notice = fields.Dict(
        allow_none=True,
        metadata={
            "description": "a note the service wrote itself, as a code and values (kind sla_breached: clock, "
            "target, target_minutes); null for a person's message"
        },
    )
    author = fields.String(required=True, metadata={"description": "the author's subject"})
    author_name = Readable(allow_none=True, metadata={"description": "the service's own in the reader's language"})
    author_side = fields.String(required=True, metadata={"enum": ["tenant", "firm", "park"]})
    author_side_label = Label(MESSAGE_AUTHOR_SIDE, attribute="author_side")
    created_at = ParkTime(required=True)
    attachments = fields.List(fields.Nested(MessageAttachmentSchema), required=True)


class ThreadSchema(Schema):
    items = fields.List(fields.Nested(MessageSchema), required=True)
