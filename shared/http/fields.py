"""Marshmallow fields every API shares.

The timestamp rule (docs/API.md, "Times"): every timestamp in an answer is RFC 3339 in park time
with its offset (``2026-12-01T09:00:00+08:00``, Asia/Shanghai); a request may send any offset;
storage stays UTC. CloudEvents envelopes keep ``time`` in UTC: that is the event standard's
habit, and events are read by machines, not by people at the park's desk.

Also the fields and small schemas every service's answers share: :class:`Text` (trimmed, no NUL),
:class:`WholeNumber`, :class:`Readable` (a marked text in the reader's language),
:class:`NamedSchema` (``name``/``name_zh``/``display_name``) and :class:`OrganisationRefSchema`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from marshmallow import Schema, ValidationError, fields, utils

from shared.clock import PARK_TZ, as_utc
from shared.http.display_names import DisplayName
from shared.http.languages import current_locale
from shared.i18n import Message, _, render

PARK_TIME_EXAMPLE = "2026-12-01T09:00:00+08:00"


class ParkTime(fields.AwareDateTime):
    """An instant, dumped as RFC 3339 in park time with its offset; a naive value (SQLite hands
    them back) is taken as UTC. Loads RFC 3339 with any offset, into an aware ``datetime``; a
    value without an offset is refused (a validation error), since its zone would be a guess."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = {"example": PARK_TIME_EXAMPLE, **kwargs.pop("metadata", {})}
        super().__init__(format="iso", metadata=metadata, **kwargs)

    def _serialize(self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | float | None:
        if value is None:
            return None
        return super()._serialize(as_utc(value).astimezone(PARK_TZ), attr, obj, **kwargs)


def no_nul(text: str) -> None:
    """Refuse a NUL character (PostgreSQL cannot store one in text; SQLite would)."""
    if "\x00" in text:
        raise ValidationError(_("The text holds a NUL character.").msgid)


class Text(fields.String):
    """A string stored without its surrounding whitespace, never with a NUL character (a field
    error); with ``Length(min=1)`` never blank."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        no_nul(text)
        return text.strip()


class WholeNumber(fields.Integer):
    """An integer given as a JSON number: not ``3.5``, not ``"4"``, not ``true``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise ValidationError(_("Not a valid integer.").msgid)
        return int(super()._deserialize(value, attr, data, **kwargs))


class Readable(fields.String):
    """A text for people: a marked message (:mod:`shared.i18n`) rendered in the request's
    language, a plain string (a person's own words, a stored name) as it is."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, Message):
            return render(value, current_locale())
        return super()._serialize(value, attr, obj, **kwargs)


class NamedSchema(Schema):
    """A thing named in two languages: ``name``, ``name_zh`` as stored, ``display_name`` in the
    reader's language (:class:`shared.http.display_names.DisplayName`)."""

    name = fields.String(allow_none=True)
    name_zh = fields.String(allow_none=True)
    display_name = DisplayName()


class OrganisationName(DisplayName):
    """An organisation's ``display_name``; one missing from the directory is shown by its id."""

    def serialize(self, attr: str, obj: Any, accessor: Any = None, **kwargs: Any) -> Any:
        shown = super().serialize(attr, obj, accessor, **kwargs)
        return shown if shown else (accessor or utils.get_value)(obj, "id", None)


class OrganisationRefSchema(NamedSchema):
    """An organisation beside what it is part of (a case's tenant or firm, a quote's firm, a
    firm of the catalogue): ``id``, its ``name`` and ``name_zh`` from the service's directory, and
    ``display_name``. The one fallback for an organisation the directory does not hold (yet): its
    names are null and ``display_name`` is its id, so a reader always has something to show."""

    id = fields.String(required=True)
    display_name = OrganisationName(
        metadata={"description": "the name in the reader's language; the id when the directory has no name for it"}
    )


class EmptySchema(Schema):
    """The body of an action that takes none (or ``{}``): any field is refused."""


EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)
"""The days a date or time of the API may fall on: anything else is a typing mistake."""


def plausible_day(value: date) -> None:
    """Validator of a date or an instant: between :data:`EARLIEST` and :data:`LATEST`."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        # A list: marshmallow takes a lone message only as a string; the problem layer renders it.
        raise ValidationError([_("Must fall between {first} and {last}.", first=EARLIEST, last=LATEST)])
