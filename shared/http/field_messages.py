"""marshmallow's own field messages in the reader's language, so that a field error reads in
Chinese too, and the per-field ``errors`` of a problem rendered in one language.

The fixed messages are looked up as they are (a template whose values come from the field class,
such as "Not a valid {awareness} {obj_type}.", is listed filled in); the templated ones
(:data:`FIELD_TEMPLATES`) are recognised by their shape and rendered again with the values they
carried. ``tests/test_field_messages.py`` walks every schema of the platform and fails on a
message missing here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shared.i18n import DEFAULT_LOCALE, Message, _, translation

FIELD_MESSAGES = (
    _("Missing data for required field."),
    _("Unknown field."),
    _("Field may not be null."),
    _("Invalid value."),
    _("Invalid input type."),
    _("Not a valid string."),
    _("Not a valid integer."),
    _("Not a valid number."),
    _("Not a valid boolean."),
    _("Not a valid UUID."),
    _("Not a valid email address."),
    _("Not a valid URL."),
    _("Not a valid date."),
    _("Not a valid datetime."),
    _("Not a valid time."),
    _("Not a valid list."),
    _("Not a valid mapping type."),
    _("Invalid input type for a nested field."),
    _("String does not match expected pattern."),
    _("Invalid input."),
    _("Number too large."),
    _("Not a valid tuple."),
    _("Not a valid period of time."),
    _("Not a valid utf-8 string."),
    _("Invalid type."),
    _("Not a valid aware datetime."),
    _("Not a valid naive datetime."),
    _("Special numeric values (nan or infinity) are not permitted."),
    _("Not a valid IP address."),
    _("Not a valid IPv4 address."),
    _("Not a valid IPv6 address."),
    _("Not a valid IP interface."),
    _("Not a valid IPv4 interface."),
    _("Not a valid IPv6 interface."),
)
FIELD_TEMPLATES = (
    _("Shorter than minimum length {min}."),
    _("Longer than maximum length {max}."),
    _("Length must be between {min} and {max}."),
    _("Length must be {equal}."),
    _("Must be greater than or equal to {min} and less than or equal to {max}."),
    _("Must be greater than {min} and less than {max}."),
    _("Must be greater than or equal to {min} and less than {max}."),
    _("Must be greater than {min} and less than or equal to {max}."),
    _("Must be greater than or equal to {min}."),
    _("Must be greater than {min}."),
    _("Must be less than or equal to {max}."),
    _("Must be less than {max}."),
    _("Must be one of: {choices}."),
    _("Must be equal to {other}."),
    _("One or more of the choices you made was not in: {choices}."),
    _("One or more of the choices you made was in: {values}."),
    # Dumping, not loading ("format"): marshmallow quotes the value itself, or writes its repr
    # (a timedelta), so the quotes are part of the shape, not of the value.
    _('"{input}" cannot be formatted as a datetime.'),
    _('"{input}" cannot be formatted as a date.'),
    _('"{input}" cannot be formatted as a time.'),
    _("{input} cannot be formatted as a timedelta."),
)
_TEMPLATE_SHAPES = tuple(
    (re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>.+)", re.escape(template.msgid))), template.msgid)
    for template in FIELD_TEMPLATES
)


def field_message(text: str, locale: str) -> str:
    """One of marshmallow's messages in ``locale``: a fixed one looked up, a templated one
    recognised by its shape and filled in again with the values it carried; any other text as it is."""
    translated = translation(text, locale)
    if translated != text or locale == DEFAULT_LOCALE:
        return translated
    for shape, msgid in _TEMPLATE_SHAPES:
        match = shape.fullmatch(text)
        if match:
            return Message(msgid, match.groupdict()).render(locale)
    return text


def field_errors(errors: Any, locale: str) -> Any:
    """Per-field messages in ``locale``: marked ones rendered, marshmallow's fixed ones looked up."""
    if isinstance(errors, Message):
        return errors.render(locale)
    if isinstance(errors, str):
        return field_message(errors, locale)
    if isinstance(errors, Mapping):
        return {key: field_errors(value, locale) for key, value in errors.items()}
    if isinstance(errors, list | tuple):
        return [field_errors(value, locale) for value in errors]
    return errors
