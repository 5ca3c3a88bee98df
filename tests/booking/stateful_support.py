"""What the stateful test of booking (``test_stateful.py``) stands on: a booking world built
fresh for each example (the app over a database built by the migrations, the park's users and
spaces), and the invariants read back from that database and from the API.

The invariants are booking's promises, written here independently of the handlers that keep them:

- **no double booking**: no two reservations in a holding state (``rules.HOLDING``) of one space
  have overlapping holds (``[hold_start, hold_end)``);
- **only the lifecycle's transitions**: every line of the audit trail is a move the rules allow
  (:func:`allowed_line`);
- **a complete audit trail**: each reservation's lines chain (each starts where the last ended, the
  first is its request, the last is where it is now) and each line has its outbox event, in
  order, carrying the state the line led to (:func:`expected_events`);
- **the free-hour counters** equal the minutes the counted reservations took;
- the API tells the same: the list of every reservation, each one's history, the quota usage.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.booking.app import create_app
from services.booking.models import QuotaUsage, Reservation, Space, Transition
from services.booking.models import database as booking_database
from services.booking.rules import COUNTED_FOR_QUOTA, HOLDING, next_status, quota_month
from services.booking.worker import participant
from shared.db import Database, forget_databases
from shared.errors import Conflict
from shared.settings import Settings
from tests.booking import factories
from tests.booking.conftest import Api, register_organisations, write_jwks
from tests.conftest import make_settings
from tests.servers import PostgresDatabases

SCRATCH = Path("/dev/shm")

EDITABLE = ("pending_approval", "confirmed", "checked_in")
"""The states whose details may be edited or whose visitors replaced (they keep their state, but
an edit of the seating may send a confirmed one back to the desk, and undoing it confirms again)."""

EVENT_OF = {
    "approve": "confirmed",
    "reject": "rejected",
    "expire": "rejected",
    "cancel": "cancelled",
    "check_in": "checked_in",
    "no_show": "no_show",
    "complete": "completed",
    "reschedule": "rescheduled",
    "visitors": "visitors_changed",
}
"""The event (``booking.reservation.<verb>``) each line of the audit trail is announced with
(``request`` and ``edit`` depend on the line: :func:`expected_events`)."""


@dataclass
class World:
    """One example's booking: its settings, database, app and a client speaking as the test users."""

    settings: Settings
    database: Database
    api: Api
    var: Path
    owns_var: bool
    session: Session
    spaces: dict[str, Space] = field(default_factory=dict)

    def close(self) -> None:
        factories.bind(None)
        self.session.close()
        forget_databases()
        if self.owns_var:
            shutil.rmtree(self.var, ignore_errors=True)

    def deliver(self, envelope: dict[str, Any]) -> str:
        """Hand one envelope to booking's inbox, as the bus would (as JSON); the outcome's value."""
        return participant(self.settings).inbox.deliver(json.dumps(envelope)).value

    def run_job(self, job: Any, now: datetime) -> int:
        with self.database.unit_of_work() as uow:
            done = job(uow=uow, now=now)
            uow.commit()
        return int(done)


def sqlite_world(template: Path, key: rsa.RSAPrivateKey) -> World:
    """A world over a copy of the template's migrated ``booking.db`` (copying beats migrating)."""
    # In memory-backed storage where there is one: hundreds of commits per example need no fsync.
    var = Path(tempfile.mkdtemp(prefix="parkhub-stateful-", dir=SCRATCH if SCRATCH.is_dir() else None))
    for name in template.iterdir():
        if name.name.startswith("booking.db"):
            shutil.copy(name, var / name.name)
    return _world(make_settings(var), key, var, owns_var=True)


def postgres_world(url: str, var: Path, key: rsa.RSAPrivateKey) -> World:
    """A world over a PostgreSQL database the caller built with the migrations."""
    return _world(make_settings(var, PARKHUB_DB_BOOKING=url), key, var, owns_var=False)


def copy_postgres_database(databases: PostgresDatabases, template: str) -> str:
    """A new database copied from ``template`` (a migrated one nobody is connected to), dropped
    with the others at the end of the session; its URL."""
    source = urlsplit(template).path.lstrip("/")
    name = f"{source}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(databases.admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    databases.created.append(name)
    return template.rsplit("/", 1)[0] + f"/{name}"


def _world(settings: Settings, key: rsa.RSAPrivateKey, var: Path, *, owns_var: bool) -> World:
    write_jwks(settings, key)
    database = booking_database(settings)
    register_organisations(database)
    session = database.session()
    factories.bind(session)
    app = create_app(settings)
    return World(settings, database, Api(app.test_client(), settings, key), var, owns_var, session)


# The database's side -----------------------------------------------------------------------------


def fingerprint(db: Database) -> tuple[Any, ...]:
    """What any change of booking's state moves: rows of reservations, audit lines, events,
    versions, counters, answered hold requests, the directory. Equal before and after a request
    means the request changed nothing."""
    outbox = db.messaging.outbox
    with db.reading() as session:
        return (
            session.execute(select(func.count(), func.coalesce(func.sum(Reservation.version), 0))).one(),
            session.execute(select(func.count(Transition.id))).scalar_one(),
            session.execute(select(func.count(outbox.c.id))).scalar_one(),
            session.execute(select(func.coalesce(func.sum(QuotaUsage.minutes), 0))).scalar_one(),
            session.execute(select(func.count()).select_from(db.messaging.idempotency_keys)).scalar_one(),
        )


def reservations(db: Database) -> dict[str, dict[str, Any]]:
    """Every reservation as stored: id → status, version, space, holds."""
    with db.reading() as session:
        rows = session.execute(
            select(
                Reservation.id,
                Reservation.status,
                Reservation.version,
                Reservation.space_id,
                Reservation.hold_start,
                Reservation.hold_end,
                Reservation.org_id,
                Reservation.booked_by,
                Reservation.cancellation_fee,
                Reservation.starts_at,
                Reservation.ends_at,
            )
        ).mappings()
        return {row["id"]: dict(row) for row in rows}


def trails(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Each reservation's audit trail, oldest line first."""
    found: dict[str, list[dict[str, Any]]] = {}
    with db.reading() as session:
        rows = session.execute(
            select(
                Transition.reservation_id,
                Transition.action,
                Transition.from_status,
                Transition.to_status,
                Transition.details,
            ).order_by(Transition.id)
        ).mappings()
        for row in rows:
            found.setdefault(row["reservation_id"], []).append(
                {
                    "action": row["action"],
                    "from_status": row["from_status"],
                    "to_status": row["to_status"],
                    "details": row["details"] or {},
                }
            )
    return found


def events(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Each reservation's ``booking.reservation.*`` events in the outbox, in order (a refused room
    hold's ``rejected``, which names no reservation, is left out)."""
    table = db.messaging.outbox
    found: dict[str, list[dict[str, Any]]] = {}
    with db.reading() as session:
        rows = session.execute(
            select(table.c.envelope).where(table.c.type.startswith("booking.reservation.")).order_by(table.c.id)
        )
        for (envelope,) in rows:
            event = json.loads(envelope)
            reservation_id = event["data"].get("reservation_id")
            if reservation_id:
                found.setdefault(reservation_id, []).append(event)
    return found


def outbox_after(db: Database, last_id: int) -> tuple[int, list[dict[str, Any]]]:
    """The events written after outbox row ``last_id``, and the last id now."""
    table = db.messaging.outbox
    with db.reading() as session:
        rows = session.execute(select(table.c.id, table.c.envelope).where(table.c.id > last_id).order_by(table.c.id))
        found = [(row_id, json.loads(envelope)) for row_id, envelope in rows]
    return (found[-1][0] if found else last_id), [event for _, event in found]


def last_outbox_id(db: Database) -> int:
    table = db.messaging.outbox
    with db.reading() as session:
        return int(session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())


def counters(db: Database) -> dict[tuple[str, str, str], int]:
    with db.reading() as session:
        rows = session.execute(select(QuotaUsage)).scalars()
        return {(r.org_id, r.space_kind, r.month): r.minutes for r in rows if r.minutes}


def spent(db: Database) -> dict[tuple[str, str, str], int]:
    """The free minutes the counted reservations took, per (organisation, kind, park month)."""
    found: dict[tuple[str, str, str], int] = {}
    with db.reading() as session:
        rows = session.execute(
            select(Reservation.org_id, Space.kind, Reservation.starts_at, Reservation.quota_minutes)
            .join(Space, Space.id == Reservation.space_id)
            .where(Reservation.status.in_(COUNTED_FOR_QUOTA), Reservation.quota_minutes > 0)
        )
        for org_id, kind, starts_at, minutes in rows:
            key = (org_id, kind, quota_month(starts_at))
            found[key] = found.get(key, 0) + minutes
    return found


# The invariants ----------------------------------------------------------------------------------


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC (SQLite hands instants back without their offset, in UTC)."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def fixed_offset(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


def overlapping_holds(stored: dict[str, dict[str, Any]]) -> list[tuple[str, str]]:
    """Pairs of reservations holding one space at once (should be none)."""
    by_space: dict[str, list[dict[str, Any]]] = {}
    for row in stored.values():
        if row["status"] in HOLDING:
            by_space.setdefault(row["space_id"], []).append(row)
    clashes = []
    for rows in by_space.values():
        rows.sort(key=lambda r: utc(r["hold_start"]))
        for before, after in zip(rows, rows[1:], strict=False):
            if utc(after["hold_start"]) < utc(before["hold_end"]):
                clashes.append((before["id"], after["id"]))
    return clashes


def allowed_line(line: dict[str, Any]) -> bool:
    """Whether one audit line is a move booking's lifecycle allows."""
    action, before, after = line["action"], line["from_status"], line["to_status"]
    if action == "request":
        return before is None and after in ("pending_approval", "confirmed")
    if action == "edit":
        back_to_desk = {"confirmed": "pending_approval", "pending_approval": "confirmed"}
        return before in EDITABLE and after in (before, back_to_desk.get(before))
    if action == "visitors":
        return before in EDITABLE and after == before
    try:
        return next_status(before, action) == after
    except Conflict:
        return False


def expected_events(trail: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The events (type's verb, the state it carries) a reservation's audit trail announces."""
    expected: list[tuple[str, str]] = []
    for line in trail:
        action, after = line["action"], line["to_status"]
        if action == "request":
            expected.append(("requested" if after == "pending_approval" else "confirmed", after))
        elif action == "edit":
            expected.append(("changed", after))
            if "visitors" in line["details"]:
                expected.append(("visitors_changed", after))
        else:
            expected.append((EVENT_OF[action], after))
    return expected


def audit_problems(
    stored: dict[str, dict[str, Any]],
    lines: dict[str, list[dict[str, Any]]],
    announced: dict[str, list[dict[str, Any]]],
) -> list[str]:
    """Everything wrong with the audit trails and events of ``stored`` (empty when all is well)."""
    problems: list[str] = []
    for reservation_id, row in stored.items():
        trail = lines.get(reservation_id, [])
        if not trail or trail[0]["action"] != "request":
            problems.append(f"{reservation_id}: its trail does not start with its request: {trail}")
            continue
        for line in trail:
            if not allowed_line(line):
                problems.append(f"{reservation_id}: a move the lifecycle does not allow: {line}")
        for before, after in zip(trail, trail[1:], strict=False):
            if after["from_status"] != before["to_status"]:
                problems.append(f"{reservation_id}: the trail skips a change: {before} then {after}")
        if trail[-1]["to_status"] != row["status"]:
            problems.append(f"{reservation_id}: is {row['status']}, its trail ends at {trail[-1]['to_status']}")
        seen = [
            (e["type"].removeprefix("booking.reservation."), e["data"]["status"])
            for e in announced.get(reservation_id, [])
        ]
        if seen != expected_events(trail):
            problems.append(f"{reservation_id}: events {seen} for the trail {expected_events(trail)}")
    strays = set(announced) - set(stored)
    if strays:
        problems.append(f"events of reservations that do not exist: {sorted(strays)}")
    return problems


def listed(api: Api, user: str = "admin") -> Iterator[dict[str, Any]]:
    """Every reservation ``GET /reservations?scope=all`` lists, page by page."""
    page = 1
    while True:
        answer = api.get(f"/reservations?scope=all&page_size=200&page={page}", user=user)
        assert answer.status_code == 200, answer.json
        yield from answer.json["items"]
        if page * 200 >= answer.json["total"]:
            return
        page += 1
