"""Fields for what people read in booking's answers, in the request's language.

- :class:`Readable` (the kernel's, :mod:`shared.http.fields`): a text that may be a marked
  message (``shared.i18n``), e.g. the detail of an occurrence a series could not book, or a
  reason booking itself gave (stored in English, turned back into its marked text by
  :func:`services.booking.rules.reason_text`); a person's own words are shown as they wrote them.
- :class:`LabelMap`: the labels of several codes at once (a space's equipment, its layouts, the
  weekdays of its opening hours), as ``{code: label}`` beside the codes.

Single codes take ``shared.http.languages.Label``; names in two languages ``display_name``
(``shared.http.display_names.DisplayName``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import fields

from services.booking.rules import reason_text
from shared.http.fields import Readable
from shared.http.languages import current_locale
from shared.i18n import label, render


class Reason(Readable):
    """A stored ``reason``: booking's own reasons (no-show, expiry) in the reader's language, a
    person's reason as written."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return super()._serialize(reason_text(value) if isinstance(value, str) else value, attr, obj, **kwargs)


class LabelMap(fields.Field[Any]):
    """``{code: label}`` for the codes of a list, or the keys of a mapping (dump only)."""

    def __init__(self, kind: str, **kwargs: Any) -> None:
        kwargs.setdefault("dump_only", True)
        metadata = {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": f"Each {kind} code with its label in the reader's language.",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)
        self.kind = kind

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> dict[str, str] | None:
        if value is None:
            return None
        codes = value.keys() if isinstance(value, Mapping) else value
        locale = current_locale()
        return {str(code): render(label(self.kind, str(code)), locale) for code in codes}
