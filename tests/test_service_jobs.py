"""The kernel's jobs (shared/service.py): a job that declares ``settings`` is given the process's,
and a :class:`~shared.service.Dispatch` job claims and leases in one short unit of work, sends with
no transaction open, and records in a second one, leaving alone what another run took meanwhile."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, String, Table, select, update

from shared import service
from shared.clock import as_utc, utcnow
from shared.db import Database, UnitOfWork, UtcDateTime, metadata
from shared.service import LEASE, Dispatch, Lease, Sent, scheduled, service_tables
from shared.settings import Settings

WAIT = 5.0
"""Longest a test waits for another thread (it never needs this long unless something is wrong)."""


# Settings ----------------------------------------------------------------------------------------


def test_a_job_that_declares_settings_is_given_the_process_settings(settings: Settings) -> None:
    from services.booking.models import TABLES

    seen: list[Settings] = []

    def with_settings(*, uow: UnitOfWork, settings: Settings) -> int:
        seen.append(settings)
        return 1

    def without(*, uow: UnitOfWork) -> int:
        return 2

    parts = service.participant(TABLES, settings, {}, jobs=(with_settings, without))
    assert [job.run() for job in parts.jobs] == [1, 2]
    assert seen == [settings]  # the very object the participant was built with


def test_whether_a_job_takes_settings_is_decided_once(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.booking.models import TABLES

    asked: list[Callable[..., Any]] = []
    original = service.takes_settings

    def counting(work: Callable[..., Any]) -> bool:
        asked.append(work)
        return original(work)

    monkeypatch.setattr(service, "takes_settings", counting)

    def counted(*, uow: UnitOfWork, settings: Settings) -> int:
        return 1

    job = scheduled(TABLES.database(settings), counted, every_seconds=60, settings=settings)
    assert [job.run() for _ in range(3)] == [1, 1, 1]
    assert asked == [counted]


# A dispatch job over a table of its own ----------------------------------------------------------


@dataclass(frozen=True)
class Parcel:
    id: str
    due: datetime
    lease: Lease


class Rig:
    """A database with one table of things to send (``status``, ``attempts``, ``next_attempt_at``)
    and a dispatch job over it whose ``send`` is the test's."""

    def __init__(self, directory: Path) -> None:
        meta = metadata()
        tables = service_tables("kernel", meta)
        self.parcels = Table(
            "parcels",
            meta,
            Column("id", String(20), primary_key=True),
            Column("status", String(10)),
            Column("attempts", Integer),
            Column("next_attempt_at", UtcDateTime),
        )
        self.path = directory / "kernel.db"
        self.database = Database("kernel", f"sqlite:///{self.path}", tables.messaging)
        meta.create_all(self.database.engine)
        self.claims = 0

    def add(self, *ids: str, due: datetime | None = None) -> None:
        with self.database.unit_of_work() as uow:
            for id in ids:
                uow.session.execute(
                    self.parcels.insert().values(id=id, status="pending", attempts=0, next_attempt_at=due or utcnow())
                )
            uow.commit()

    def rows(self) -> dict[str, Any]:
        with self.database.reading() as session:
            return {row.id: row for row in session.execute(select(self.parcels))}

    def claim(self, *, uow: UnitOfWork, settings: Settings, now: datetime, lease_until: datetime) -> list[Parcel]:
        self.claims += 1
        rows = uow.session.execute(
            select(self.parcels)
            .where(self.parcels.c.status == "pending", self.parcels.c.next_attempt_at <= now)
            .order_by(self.parcels.c.id)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            uow.session.execute(
                update(self.parcels).where(self.parcels.c.id == row.id).values(next_attempt_at=lease_until)
            )
        return [Parcel(row.id, as_utc(row.next_attempt_at), Lease(row.attempts, lease_until)) for row in rows]

    def record(self, sent: Sequence[Sent[Parcel, str]], *, uow: UnitOfWork, settings: Settings, now: datetime) -> int:
        done = 0
        for one in sent:
            row = uow.session.execute(select(self.parcels).where(self.parcels.c.id == one.item.id)).one()
            if row.status != "pending" or not one.item.lease.holds(row):
                continue
            where = update(self.parcels).where(self.parcels.c.id == one.item.id)
            if one.result is None:
                uow.session.execute(where.values(next_attempt_at=one.item.due))
                continue
            uow.session.execute(where.values(status=one.result, attempts=row.attempts + 1))
            done += 1
        return done

    def job(self, send: Callable[[Parcel, Settings], str], **options: Any) -> Dispatch[Parcel, str]:
        return Dispatch("send_parcels", self.claim, send, self.record, **options)


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def target() -> None:
        try:
            out.append(call())
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            out.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, out


def test_nothing_of_the_database_is_held_while_sending(rig: Rig, settings: Settings) -> None:
    rig.add("p1", "p2")
    written: list[str] = []

    def send(parcel: Parcel, _settings: Settings) -> str:
        # Another writer, with half a second's patience: it would fail if the job held the write lock.
        connection = sqlite3.connect(rig.path, timeout=0.5, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(
                "INSERT INTO parcels (id, status, attempts, next_attempt_at) VALUES (?, 'other', 0, NULL)",
                (f"w-{parcel.id}",),
            )
            connection.execute("COMMIT")
        finally:
            connection.close()
        written.append(parcel.id)
        return "sent"

    assert rig.job(send).run(rig.database, settings) == 2
    assert written == ["p1", "p2"]
    rows = rig.rows()
    assert (rows["p1"].status, rows["p1"].attempts) == ("sent", 1)
    assert {"w-p1", "w-p2"} <= set(rows)


def test_a_second_run_during_the_send_takes_nothing(rig: Rig, settings: Settings) -> None:
    rig.add("p1")
    sending, release = threading.Event(), threading.Event()
    sent: list[str] = []

    def slow(parcel: Parcel, _settings: Settings) -> str:
        sent.append(parcel.id)
        sending.set()
        assert release.wait(WAIT)
        return "sent"

    first, result = in_thread(lambda: rig.job(slow).run(rig.database, settings))
    try:
        assert sending.wait(WAIT)
        assert rig.job(slow).run(rig.database, settings) == 0  # leased: not due
        assert rig.job(slow).run(rig.database, settings, now=utcnow() + LEASE - timedelta(seconds=5)) == 0
    finally:
        release.set()
        first.join(WAIT)
    assert result == [1] and sent == ["p1"]
    assert (rig.rows()["p1"].status, rig.rows()["p1"].attempts) == ("sent", 1)


def test_a_crashed_run_leaves_its_item_leased_until_the_lease_ends(rig: Rig, settings: Settings) -> None:
    rig.add("p1")
    now = utcnow()

    def crash(parcel: Parcel, _settings: Settings) -> str:
        raise RuntimeError("the worker died while sending")

    with pytest.raises(RuntimeError):
        rig.job(crash).run(rig.database, settings, now=now)
    row = rig.rows()["p1"]
    assert (row.status, row.attempts, as_utc(row.next_attempt_at)) == ("pending", 0, now + LEASE)
    ok = rig.job(lambda parcel, _settings: "sent")
    assert ok.run(rig.database, settings, now=now + timedelta(minutes=1)) == 0
    assert ok.run(rig.database, settings, now=now + LEASE + timedelta(seconds=1)) == 1  # due again: at least once
    assert rig.rows()["p1"].status == "sent"


def test_a_record_after_the_lease_was_taken_by_another_run_changes_nothing(rig: Rig, settings: Settings) -> None:
    rig.add("p1")
    sending, release = threading.Event(), threading.Event()

    def stuck(parcel: Parcel, _settings: Settings) -> str:
        sending.set()
        assert release.wait(WAIT)
        return "late"

    first, result = in_thread(lambda: rig.job(stuck).run(rig.database, settings))
    try:
        assert sending.wait(WAIT)
        later = rig.job(lambda parcel, _settings: "sent")
        assert later.run(rig.database, settings, now=utcnow() + LEASE + timedelta(seconds=1)) == 1
    finally:
        release.set()
        first.join(WAIT)
    assert result == [0]  # its lease was gone: nothing recorded
    row = rig.rows()["p1"]
    assert (row.status, row.attempts) == ("sent", 1)


def test_a_sequential_job_that_stops_early_gives_the_rest_back(rig: Rig, settings: Settings) -> None:
    due = utcnow() - timedelta(minutes=1)
    rig.add("p1", "p2", "p3", due=due)
    sent: list[str] = []

    def send(parcel: Parcel, _settings: Settings) -> str:
        sent.append(parcel.id)
        return "sent"

    def first_only(results: Sequence[str], elapsed: float, _settings: Settings) -> bool:
        return not results

    job = rig.job(send, keep_sending=first_only)
    assert job.run(rig.database, settings) == 1
    rows = rig.rows()
    assert [rows[id].status for id in ("p1", "p2", "p3")] == ["sent", "pending", "pending"]
    assert as_utc(rows["p2"].next_attempt_at) == due  # not leased: due again at once, in its place
    assert job.run(rig.database, settings) == 1 and sent == ["p1", "p2"]


def test_a_concurrent_job_sends_at_once_and_records_what_did_not_raise(rig: Rig, settings: Settings) -> None:
    rig.add("p1", "p2", "p3")
    together = threading.Barrier(3, timeout=WAIT)

    def send(parcel: Parcel, _settings: Settings) -> str:
        together.wait()  # passes only when all three are being sent at once
        if parcel.id == "p2":
            raise RuntimeError("unexpected")
        return "sent"

    started = time.monotonic()
    with pytest.raises(RuntimeError):
        rig.job(send, concurrency=3).run(rig.database, settings)
    assert time.monotonic() - started < WAIT
    rows = rig.rows()
    assert [rows[id].status for id in ("p1", "p2", "p3")] == ["sent", "pending", "sent"]
    assert as_utc(rows["p2"].next_attempt_at) > utcnow() + LEASE - timedelta(minutes=1)  # still leased


def test_a_jobs_events_carry_its_trace(settings: Settings) -> None:
    """Each run is a span: every consumer of a job's event continues one trace."""
    import json

    from services.notify.models import database

    db = database(settings)

    def publish_one(*, uow: UnitOfWork) -> int:
        uow.publish("booking.room_hold.released", {"request_id": "r1", "requester": "consulting"})
        return 1

    scheduled(db, publish_one, every_seconds=1).run()
    with db.reading() as session:
        envelope = json.loads(session.execute(select(db.messaging.outbox.c.envelope)).scalar_one())
    assert envelope["traceparent"].startswith("00-")
