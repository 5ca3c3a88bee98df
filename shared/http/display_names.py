"""Names in the reader's language: ``display_name`` beside a resource's ``name`` and ``name_zh``.

A resource named in both languages (an organisation, a directory entry, a space) keeps answering
both as they are stored, since they are data; :class:`DisplayName` adds the one a person reads:
``name_zh`` when the request speaks Chinese and the resource has one, else ``name``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import fields, missing, utils

from shared.http.languages import current_locale

__all__ = ["DisplayName"]

Accessor = Callable[[Any, str, Any], Any]


class DisplayName(fields.String):
    """Dumps the name in the request's language, read from two attributes of the object
    (``name`` and ``name_zh`` unless told otherwise). Dump only; never loaded."""

    _CHECK_ATTRIBUTE = False  # it reads two attributes of its own, not one named like the field

    def __init__(self, name: str = "name", name_zh: str = "name_zh", **kwargs: Any) -> None:
        kwargs["dump_only"] = True
        metadata = {
            "description": f"The name in the reader's language: {name_zh} in Chinese when there is one, else {name}.",
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)
        self.name_attribute = name
        self.name_zh_attribute = name_zh

    def serialize(self, attr: str, obj: Any, accessor: Accessor | None = None, **kwargs: Any) -> Any:
        read: Accessor = accessor or utils.get_value
        name = read(obj, self.name_attribute, missing)
        if current_locale() == "zh":
            name_zh = read(obj, self.name_zh_attribute, missing)
            if isinstance(name_zh, str) and name_zh.strip():
                return name_zh
        return None if name is missing else name
