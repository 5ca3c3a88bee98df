"""What a fault test counts, per event type, once the platform has recovered.

The stream (:mod:`tests.chaos.rig`) keeps a ledger of the business operations it asked for: each
ended ``ok`` (a 2xx), ``refused`` (a 4xx: nothing changed) or ``unknown`` (a 5xx or a dropped
connection while something was dead). An unknown one counts as committed only if its row is in the
owning service's database (:func:`resolve`), read by the unique marker the stream put into it.

:class:`Counts` then reads, for the outbox rows written after the stream began (each database's
watermark): the rows per type, how many the relay had confirmed (published; an event nobody
subscribes to is settled without publishing), every subscriber's inbox, the dead letters, the
probe queue's copies and the duplicates the workers' inboxes dropped (their metrics), and
:meth:`Counts.problems` says what breaks the guarantees:

- every committed operation has its event in its service's outbox (the transactional outbox);
- every event of a subscribed type is confirmed and in the inbox of every subscriber of its type
  (per the topology), and in the probe when there is one (at least once);
- no effect twice: one inbox row per event, one notification per (event, recipient), one
  timeline entry per event, one directory row per organisation;
- nothing in any dead-letter table.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

import parkhub_cli
from shared.settings import DATABASES, SERVICES

AGGREGATE_KEYS = ("id", "reservation_id", "case_id", "application_id")
"""Where an envelope's data names the thing it is about (organisation, reservation, case, application)."""

READ_RETRY_SECONDS = 30.0
TOPOLOGY = parkhub_cli._topology()
SUBSCRIBERS: dict[str, tuple[str, ...]] = {
    t: tuple(sorted(s.service for s in TOPOLOGY.subscriptions if s.event_type == t)) for t in TOPOLOGY.subscribed_types
}
DUPLICATE_LINE = re.compile(r"^parkhub_events_handled_total\{([^}]*)\}\s+([0-9.e+]+)$", re.MULTILINE)


@dataclass
class Operation:
    """One business operation of the stream: which event it should cause, and about what."""

    kind: str
    """The event type it causes when it commits (``booking.reservation.confirmed``, ...)."""
    marker: str
    """A unique text it wrote (a name, title, subject or purpose) to find it by reading."""
    outcome: str = "unknown"
    """``ok`` (2xx), ``refused`` (4xx) or ``unknown`` (5xx, no answer)."""
    subject_id: str | None = None
    """The organisation, reservation, case or application id, when known."""
    resolved_by_reading: bool = False
    refusal: str = ""
    """Why it was not a 2xx: the status and problem type, or the connection error (for the
    report of a run, not for the counts)."""


@dataclass
class Ledger:
    """Every operation of a stream, appended from its threads (list.append is atomic)."""

    operations: list[Operation] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Operation]:
        return [op for op in self.operations if op.kind == kind]

    def committed(self) -> list[Operation]:
        return [op for op in self.operations if op.outcome == "ok"]

    def outcomes(self) -> Counter[str]:
        return Counter(op.outcome for op in self.operations)


# What an unknown operation left behind, read by its marker: (database, SQL giving the id).
_FIND: dict[str, tuple[str, str]] = {
    "identity.organisation.registered": ("gateway", "SELECT id FROM organisations WHERE name = :m"),
    "identity.organisation.updated": ("gateway", "SELECT id FROM organisations WHERE name = :m AND version > 1"),
    "booking.reservation.confirmed": ("booking", "SELECT id FROM reservations WHERE title = :m"),
    "consulting.case.submitted": ("consulting", "SELECT id FROM cases WHERE subject = :m"),
    "finance.application.submitted": (
        "finance",
        "SELECT id FROM applications WHERE purpose = :m AND status <> 'draft'",
    ),
}


class Databases:
    """Read-only access to every database of one platform (SQLite files or PostgreSQL)."""

    def __init__(self, url_of: Callable[[str], str]) -> None:
        self.engines = {name: create_engine(url_of(name), poolclass=NullPool) for name in DATABASES}

    def rows(self, database: str, sql: str, **params: Any) -> list[Any]:
        """The rows of one query. A connection refused is tried again for up to
        :data:`READ_RETRY_SECONDS`: the machine's PostgreSQL may be at its connection limit
        while several platforms run at once, and the counting is not what is under test."""
        deadline = time.monotonic() + READ_RETRY_SECONDS
        while True:
            try:
                with self.engines[database].connect() as connection:
                    return list(connection.execute(text(sql), params))
            except OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def dispose(self) -> None:
        for engine in self.engines.values():
            engine.dispose()


def resolve(ledger: Ledger, databases: Databases) -> None:
    """Decide every unknown operation by reading its service's database: committed (``ok``, with
    the id found) or not (``refused``)."""
    for op in ledger.operations:
        if op.outcome != "unknown":
            continue
        database, sql = _FIND[op.kind]
        found = databases.rows(database, sql, m=op.marker)
        op.resolved_by_reading = True
        if found:
            op.outcome, op.subject_id = "ok", str(found[0][0])
        else:
            op.outcome = "refused"


def watermarks(databases: Databases) -> dict[str, int]:
    """The last outbox id of every database: the stream's events are the rows above it."""
    return {name: int(databases.rows(name, "SELECT coalesce(max(id), 0) FROM outbox")[0][0]) for name in DATABASES}


def aggregate(envelope: dict[str, Any]) -> str | None:
    data = envelope.get("data") or {}
    return next((str(data[key]) for key in AGGREGATE_KEYS if data.get(key)), None)


def scrape_duplicates(urls: Iterable[str]) -> Counter[str]:
    """The duplicates the inboxes dropped, per event type, summed over the ``/metrics`` pages of
    the processes that consume (a restarted process starts again at zero: a lower bound)."""
    dropped: Counter[str] = Counter()
    for url in urls:
        try:
            page = requests.get(url, timeout=5).text
        except requests.RequestException:
            continue
        for labels, value in DUPLICATE_LINE.findall(page):
            fields = dict(re.findall(r'(\w+)="([^"]*)"', labels))
            if fields.get("outcome") == "duplicate":
                dropped[fields.get("type", "?")] += int(float(value))
    return dropped


@dataclass
class Counts:
    """The per-type counts of one scenario after recovery; see the module docstring."""

    ledger: Ledger
    outbox: dict[str, list[dict[str, Any]]]
    """Per database: its outbox rows above the watermark (event_id, type, aggregate, confirmed)."""
    inboxes: dict[str, set[str]]
    dead_letters: Counter[tuple[str, str]]
    """Rows in the dead-letter tables, per (database, event type): all of them, not only the stream's."""
    probe: Counter[str] | None
    """Copies per event id seen on the probe queue (None: no broker, the embedded mode)."""
    dropped: Counter[str] | None
    effects_twice: list[str]

    @classmethod
    def read(
        cls,
        ledger: Ledger,
        databases: Databases,
        marks: dict[str, int],
        *,
        probe: Counter[str] | None,
        dropped: Counter[str] | None,
    ) -> Counts:
        outbox: dict[str, list[dict[str, Any]]] = {}
        for name in DATABASES:
            rows = databases.rows(
                name,
                "SELECT event_id, type, envelope, published_at, settled_at FROM outbox WHERE id > :mark ORDER BY id",
                mark=marks[name],
            )
            outbox[name] = [
                {
                    "event_id": r.event_id,
                    "type": r.type,
                    "aggregate": aggregate(json.loads(r.envelope)),
                    "confirmed": r.published_at is not None if r.type in SUBSCRIBERS else r.settled_at is not None,
                }
                for r in rows
            ]
        inboxes = {s: {r[0] for r in databases.rows(s, "SELECT event_id FROM inbox")} for s in SERVICES}
        letters: Counter[tuple[str, str]] = Counter()
        for name in DATABASES:
            for event_type, count in databases.rows(name, "SELECT type, count(*) FROM dead_letters GROUP BY type"):
                letters[name, event_type] += int(count)
        organisations = {op.subject_id for op in ledger.committed() if op.kind.startswith("identity.organisation.")}
        twice = effects_twice(databases) + directory_behind(databases, organisations)
        return cls(ledger, outbox, inboxes, letters, probe, dropped, twice)

    def types(self) -> list[str]:
        seen = {row["type"] for rows in self.outbox.values() for row in rows}
        lettered = {event_type for _, event_type in self.dead_letters}
        return sorted(seen | lettered | {op.kind for op in self.ledger.operations})

    def rows_of(self, event_type: str) -> list[dict[str, Any]]:
        return [row for rows in self.outbox.values() for row in rows if row["type"] == event_type]

    def table(self) -> list[dict[str, Any]]:
        """One row per event type, for :func:`tests.chaos.report.record`."""
        table = []
        for event_type in self.types():
            rows = self.rows_of(event_type)
            ids = [row["event_id"] for row in rows]
            ops = self.ledger.of_kind(event_type)
            line: dict[str, Any] = {
                "event type": event_type,
                "committed": sum(op.outcome == "ok" for op in ops) if ops else "–",
                "unanswered, committed": sum(op.resolved_by_reading and op.outcome == "ok" for op in ops)
                if ops
                else "–",
                "outbox": len(rows),
                "confirmed": sum(row["confirmed"] for row in rows),
            }
            for service in SERVICES:
                if service in SUBSCRIBERS.get(event_type, ()):
                    line[f"{service} inbox"] = sum(i in self.inboxes[service] for i in ids)
                else:
                    line[f"{service} inbox"] = "–"
            if self.probe is not None:
                line["probe"] = sum(self.probe[i] > 0 for i in ids) if event_type in SUBSCRIBERS else "–"
                line["probe copies"] = sum(self.probe[i] for i in ids) if event_type in SUBSCRIBERS else "–"
            line["duplicates dropped"] = self.dropped[event_type] if self.dropped is not None else "–"
            line["dead letters"] = sum(n for (_, t), n in self.dead_letters.items() if t == event_type)
            table.append(line)
        return table

    def problems(self) -> list[str]:
        """Every broken guarantee, as a sentence (empty: the counts hold)."""
        found: list[str] = []
        for event_type in self.types():
            rows = self.rows_of(event_type)
            about = {row["aggregate"] for row in rows}
            for op in self.ledger.of_kind(event_type):
                if op.outcome == "ok" and op.subject_id not in about:
                    found.append(f"{event_type}: committed {op.subject_id} ({op.marker}) has no outbox row")
            for row in rows:
                if event_type in SUBSCRIBERS and not row["confirmed"]:
                    found.append(f"{event_type} {row['event_id']}: never confirmed by the broker")
                for service in SUBSCRIBERS.get(event_type, ()):
                    if row["event_id"] not in self.inboxes[service]:
                        found.append(f"{event_type} {row['event_id']}: missing in {service}'s inbox")
                if self.probe is not None and event_type in SUBSCRIBERS and not self.probe[row["event_id"]]:
                    found.append(f"{event_type} {row['event_id']}: never reached the probe queue")
        found.extend(f"{name}: {n} dead letters of {t}" for (name, t), n in self.dead_letters.items() if n)
        found.extend(self.effects_twice)
        return found


_TWICE: list[tuple[str, str, str]] = [
    (
        "notify",
        "notifications per (event, recipient)",
        (
            "SELECT event_id FROM notifications GROUP BY event_id, recipient_user, recipient_org_id, recipient_role"
            " HAVING count(*) > 1"
        ),
    ),
    (
        "notify",
        "timeline entries per event",
        "SELECT event_id FROM timeline_entries GROUP BY event_id HAVING count(*) > 1",
    ),
    *[
        (s, "directory rows per organisation", "SELECT id FROM directory_organisations GROUP BY id HAVING count(*) > 1")
        for s in SERVICES
    ],
]


def effects_twice(databases: Databases) -> list[str]:
    """Effects applied twice, read from the subscribers' own tables."""
    found = []
    for database, what, sql in _TWICE:
        twice = databases.rows(database, sql)
        if twice:
            found.append(f"{database}: {len(twice)} {what} more than once, e.g. {twice[0][0]}")
    return found


def directory_behind(databases: Databases, organisations: set[str | None]) -> list[str]:
    """Organisations of the stream whose copy in some service's directory is not the gateway's
    version (an update lost, or applied to the wrong row)."""
    versions = {str(r[0]): int(r[1]) for r in databases.rows("gateway", "SELECT id, version FROM organisations")}
    found = []
    for service in SERVICES:
        copies = {
            str(r[0]): int(r[1]) for r in databases.rows(service, "SELECT id, version FROM directory_organisations")
        }
        behind = [org for org in organisations if org and copies.get(org) != versions.get(org)]
        if behind:
            found.append(f"{service}: {len(behind)} organisations not at the gateway's version, e.g. {behind[0]}")
    return found
