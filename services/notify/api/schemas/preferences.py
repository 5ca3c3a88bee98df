"""Schemas of a person's preferences: their language and, per kind of notice, the feed and e-mail."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.notify.rules.names import NOTICE_KIND
from services.notify.rules.preferences import LANGUAGES
from shared.http.languages import Label


class KindPreferenceSchema(Schema):
    kind = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "booking, case, quote, sla, application, offer or payout"},
    )
    label = Label(NOTICE_KIND, attribute="kind")
    in_app = fields.Boolean(required=True, metadata={"description": "Shown in the feed."})
    email = fields.Boolean(required=True, metadata={"description": "Sent by e-mail."})


class PreferencesSchema(Schema):
    """The whole document: ``PUT`` replaces it (a kind left out is back to both on)."""

    language = fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": "zh or en: the language of e-mails; null: not chosen (Chinese)."},
    )
    kinds = fields.List(fields.Nested(KindPreferenceSchema), required=True, validate=validate.Length(max=50))
