"""Marshmallow fields every API shares.

The timestamp rule (docs/API.md, "Times"): every timestamp in an answer is RFC 3339 in park time
with its offset (``2026-12-01T09:00:00+08:00``, Asia/Shanghai); a request may send any offset;
storage stays UTC. CloudEvents envelopes keep ``time`` in UTC: that is the event standard's
habit, and events are read by machines, not by people at the park's desk.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from marshmallow import fields

from shared.clock import PARK_TZ, as_utc

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
