"""CloudEvents 1.0 (JSON format) plus ParkHub's extension attributes.

Extensions: ``correlationid`` (the request that started it all), ``causationid`` (the event that
caused this one), ``orgid`` (the tenant or partner the event concerns). ``dataschema`` names the
contract and its version, e.g. ``urn:parkhub:identity.organisation.registered:1``.

Tracing: ``traceparent`` and ``tracestate`` of the CloudEvents Distributed Tracing extension (W3C
trace context; :mod:`shared.tracing`). They are read loosely: a malformed ``traceparent`` is
dropped with its ``tracestate`` (the event is handled under a new trace), never a reason to
dead-letter the event.
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
_TRACEPARENT = re.compile(
    r"^(?P<version>[0-9a-f]{2})-(?P<trace>[0-9a-f]{32})-(?P<span>[0-9a-f]{16})-[0-9a-f]{2}(?P<rest>-.*)?$"
)
MAX_TRACESTATE_LENGTH = 512
"""W3C's limit a tracestate must be kept within when it is passed on."""


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
    traceparent: str | None = None
    tracestate: str | None = None

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
        for name in ("subject", "orgid", "correlationid", "causationid", "traceparent", "tracestate"):
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
        traceparent = valid_traceparent(body.get("traceparent"))
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
            traceparent=traceparent,
            tracestate=valid_tracestate(body.get("tracestate")) if traceparent else None,
        )

    def as_record(self) -> dict[str, Any]:
        return asdict(self)


def valid_traceparent(value: Any) -> str | None:
    """``value`` when it is a W3C ``traceparent`` (version 00, or a later version's longer form;
    neither id all zeros), else ``None``."""
    if not isinstance(value, str):
        return None
    match = _TRACEPARENT.match(value)
    if not match or match["version"] == "ff" or (match["version"] == "00" and match["rest"]):
        return None
    if set(match["trace"]) == {"0"} or set(match["span"]) == {"0"}:
        return None
    return value


def valid_tracestate(value: Any) -> str | None:
    """``value`` when it may be a W3C ``tracestate`` (printable ASCII, at most 512 characters),
    else ``None``; its members are the tracing system's business."""
    if not isinstance(value, str) or not value or len(value) > MAX_TRACESTATE_LENGTH:
        return None
    if not value.isascii() or not value.isprintable():
        return None
    return value
