"""What a partner sees of an event it receives by webhook: the CloudEvents envelope, with its data
filtered for that partner. Pure: no Flask, no database, no bus.

The envelope keeps ``specversion``, ``id``, ``type``, ``source``, ``time``, ``subject`` (when the
event has one) and ``data``; the platform's tracing attributes (``correlationid``, ``causationid``),
``orgid`` and ``dataschema`` stay inside the park.

The data (decisions, docs/NOTIFY.md "Webhooks over HTTP"):

- a partner never reads another partner's organisation id: ``partner_org_ids`` and
  ``added_partner_org_ids`` are reduced to the receiving organisation (the others routed the same
  application are its competitors); ``partner_org_id``, ``firm_org_id``, ``previous_firm_org_id``,
  ``appraiser_org_id`` (also inside ``offer``) are kept only when they name the receiver, else null;
- the park's user accounts are not a partner's business: the subjects of people (``applicant``,
  ``submitted_by``, ``booked_by``, ``proposed_by``, ``made_by``, ``recorded_by``,
  ``approved_by``, ``requested_by``) are dropped, everywhere in the data;
- everything else the event carries about the case or application it was routed (amounts,
  statuses, reasons, the offer it made) is the partner's to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from services.notify.rules.recipients import AUDIENCES_BY_EVENT, PARTNER_AUDIENCES

ENVELOPE: tuple[str, ...] = ("specversion", "id", "type", "source", "time", "subject", "data")
"""The attributes a partner receives, in this order (``subject`` only when the event has one)."""

ORG_LISTS: frozenset[str] = frozenset({"partner_org_ids", "added_partner_org_ids"})
"""Lists of partner organisations: reduced to the receiver."""
ORG_FIELDS: frozenset[str] = frozenset({"partner_org_id", "firm_org_id", "previous_firm_org_id", "appraiser_org_id"})
"""A partner organisation: kept when it is the receiver, else null."""
PEOPLE_FIELDS: frozenset[str] = frozenset(
    {"applicant", "submitted_by", "booked_by", "proposed_by", "made_by", "recorded_by", "approved_by", "requested_by"}
)
"""The subjects of the park's user accounts: never sent to a partner."""

PARTNER_EVENT_TYPES: tuple[str, ...] = tuple(
    event_type
    for event_type, audiences in AUDIENCES_BY_EVENT.items()
    if any(audience in PARTNER_AUDIENCES for audience in audiences)
)
"""The event types a partner can ever receive: what an endpoint may subscribe to."""


def _filtered(value: Any, org_id: str) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in PEOPLE_FIELDS:
                continue
            if key in ORG_LISTS:
                out[key] = [org_id] if isinstance(item, list | tuple) and org_id in item else []
            elif key in ORG_FIELDS:
                out[key] = item if item == org_id else None
            else:
                out[key] = _filtered(item, org_id)
        return out
    if isinstance(value, list | tuple):
        return [_filtered(item, org_id) for item in value]
    return value


def partner_data(data: Mapping[str, Any], org_id: str) -> dict[str, Any]:
    """An event's ``data`` as partner ``org_id`` may read it (rules above)."""
    return dict(_filtered(data, org_id))


def _time_text(time: datetime | str) -> str:
    if isinstance(time, str):
        return time
    return time.astimezone(UTC).isoformat().replace("+00:00", "Z")


def payload(
    *,
    event_id: str,
    event_type: str,
    source: str,
    time: datetime | str,
    subject: str | None,
    data: Mapping[str, Any],
    org_id: str,
) -> dict[str, Any]:
    """The body partner ``org_id`` receives for an event: the CloudEvents envelope of
    :data:`ENVELOPE` with :func:`partner_data`."""
    body: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "type": event_type,
        "source": source,
        "time": _time_text(time),
    }
    if subject:
        body["subject"] = subject
    body["data"] = partner_data(data, org_id)
    return body
