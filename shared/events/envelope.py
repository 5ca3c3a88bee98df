"""CloudEvents 1.0 (JSON format) plus ParkHub's extension attributes.

Extensions: ``correlationid`` (the request that started it all), ``causationid`` (the event that
caused this one), ``orgid`` (the tenant or partner the event concerns). ``dataschema`` names the
contract and its version, e.g. ``urn:parkhub:identity.organisation.registered:1``.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

SPEC_VERSION = "1.0"
MAX_ID_LENGTH = 36
"""Our event ids are UUIDs; the inboxes and dead letters keep ids of at most this length."""
_TYPE = re.compile(r"^[a-z]+\.[a-z_]+\.[a-z_]+$")
_SCHEMA = re.compile(r"^urn:parkhub:(?P<type>[a-z_.]+):(?P<version>\d+)$")


class InvalidEnvelope(ValueError):
    """A message that is not a ParkHub CloudEvent; it can never be handled, so it is dead-lettered."""


def dataschema(type: str, version: int) -> str:
    return f"urn:parkhub:{type}:{version}"


@dataclass(frozen=True)
class Event:
    """An integration event as it travels on the bus. ``time`` is UTC."""

    type: str
    source: str
    data: dict[str, Any]
    version: int = 1
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    orgid: str | None = None
    correlationid: str | None = None
    causationid: str | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "time": self.time.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "datacontenttype": "application/json",
            "dataschema": dataschema(self.type, self.version),
            "data": self.data,
        }
        for name in ("subject", "orgid", "correlationid", "causationid"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body

    @classmethod
    def from_dict(cls, body: Any) -> Event:
        """Parse a received envelope; raise :class:`InvalidEnvelope` naming what is wrong."""
        if not isinstance(body, dict):
            raise InvalidEnvelope("envelope is not a JSON object")
        if body.get("specversion") != SPEC_VERSION:
            raise InvalidEnvelope(f"specversion must be {SPEC_VERSION!r}")
        missing = [k for k in ("id", "source", "type", "time", "dataschema", "data") if k not in body]
        if missing:
            raise InvalidEnvelope(f"missing attributes: {', '.join(missing)}")
        if not isinstance(body["id"], str) or not 0 < len(body["id"]) <= MAX_ID_LENGTH:
            raise InvalidEnvelope(f"id must be a string of 1 to {MAX_ID_LENGTH} characters")
        if not isinstance(body["type"], str) or not _TYPE.match(body["type"]):
            raise InvalidEnvelope("type must read <service>.<aggregate>.<past-tense verb>")
        match = _SCHEMA.match(str(body["dataschema"]))
        if not match or match["type"] != body["type"]:
            raise InvalidEnvelope("dataschema must be urn:parkhub:<type>:<version> of this type")
        if not isinstance(body["data"], dict):
            raise InvalidEnvelope("data must be a JSON object")
        try:
            time = datetime.fromisoformat(str(body["time"]).replace("Z", "+00:00"))
        except ValueError as exc:
            raise InvalidEnvelope(f"time is not RFC 3339: {exc}") from exc
        if time.tzinfo is None:
            raise InvalidEnvelope("time needs an offset")
        return cls(
            type=body["type"],
            source=str(body["source"]),
            data=body["data"],
            version=int(match["version"]),
            id=str(body["id"]),
            time=time.astimezone(UTC),
            subject=body.get("subject"),
            orgid=body.get("orgid"),
            correlationid=body.get("correlationid"),
            causationid=body.get("causationid"),
        )

    def as_record(self) -> dict[str, Any]:
        return asdict(self)
