"""The embedded bus: who subscribes decides what is published, a failing handler holds back no other
handler, the relay neither waits behind rows in backoff nor stops at a failing row, a failed step
is tried again soon, and idle means nothing committed waits."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import select, update

from shared.bus.deadletters import list_dead_letters
from shared.bus.embedded_bus import EmbeddedBus
from shared.bus.inbox import Inbox, RetryPolicy
from shared.bus.outbox import Relay, RelayPass, Unroutable, backlog
from shared.bus.runtime import Participant
from shared.clock import utcnow
from shared.db import Database, UnitOfWork
from shared.events import Contract, Event, register
from shared.settings import Settings
from tests.bus.conftest import REGISTERED, Effects, organisation, publish

UPDATED = "identity.organisation.updated"


class _Unheard(Schema):
    note = fields.String(required=True)


UNHEARD = register(Contract("testing.unheard.happened", 1, _Unheard))


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.01)
    raise AssertionError(f"gave up after {timeout:.0f} s waiting for {what}")


def outbox_rows(db: Database) -> list[Any]:
    outbox = db.messaging.outbox
    with db.reading() as session:
        return list(session.execute(select(outbox).order_by(outbox.c.id)).all())


def test_an_event_nobody_subscribes_to_is_settled_and_counted_without_being_published(
    settings: Settings, db: Database, inbox: Inbox, effects: Effects
) -> None:
    with db.unit_of_work() as uow:
        uow.publish(UNHEARD.type, {"note": "nobody listens"})
        uow.commit()
    [heard] = publish(db, "Chengdu Cell Therapeutics")
    bus = EmbeddedBus(settings, [Participant("notify", db, inbox)])
    bus.start()
    try:
        assert bus.wait_until_idle(10)
    finally:
        bus.stop()
    unheard, registered = outbox_rows(db)
    # Nobody subscribes: settled at once, never handed to the broker; the subscribed one went out.
    assert unheard.settled_at is not None and unheard.published_at is None
    assert registered.published_at is not None and registered.settled_at is not None
    assert effects.rows() == [(heard, "Chengdu Cell Therapeutics")]
    assert backlog(db) == {"pending": 0, "oldest": None, "unroutable": 0, "unsubscribed": 1}


def test_a_failing_handler_holds_back_no_other_handler(settings: Settings, db: Database) -> None:
    failing_calls: list[float] = []
    handled: dict[str, float] = {}

    def failing(event: Event, *, uow: UnitOfWork) -> None:
        failing_calls.append(time.monotonic())
        raise RuntimeError("the partner system is down")

    def working(event: Event, *, uow: UnitOfWork) -> None:
        handled[event.id] = time.monotonic()

    # Four retries waiting 0.4 + 0.8 + 1.6 s: an in-place retry would hold the bus thread ~2.8 s.
    retry = RetryPolicy(attempts=4, base_seconds=0.4)
    inbox = Inbox("notify", db, {REGISTERED: failing, UPDATED: working}, retry=retry)
    bus = EmbeddedBus(settings, [Participant("notify", db, inbox)])
    bus.start()
    try:
        publish(db, "Always Failing Ltd")
        wait_for(lambda: failing_calls, "the failing handler's first attempt")
        with db.unit_of_work() as uow:
            updated = uow.publish(UPDATED, organisation("Sichuan IP Agency"))
            uow.commit()
        published = time.monotonic()
        wait_for(lambda: updated in handled, "the other handler's event")
        assert handled[updated] - published < 1.0, "the working handler waited for the failing one"
        assert len(failing_calls) < retry.attempts  # its retries were still pending meanwhile
        letters = wait_for(lambda: list_dead_letters(inbox)[0], "the failing event's dead letter")
        assert bus.wait_until_idle(10)
    finally:
        bus.stop()
    assert [letter.attempts for letter in letters] == [4]
    # The retries came after their delays, not at once.
    gaps = [b - a for a, b in zip(failing_calls, failing_calls[1:], strict=False)]
    assert [round(g, 1) >= d for g, d in zip(gaps, (0.4, 0.8, 1.6), strict=True)] == [True] * 3
    # Settled only once the last retry had ended.
    assert all(row.settled_at is not None for row in outbox_rows(db))


class _RefusesSome:
    """A broker that refuses one type (no queue bound to it) and records when it confirmed each."""

    def __init__(self, refused: str) -> None:
        self.refused = refused
        self.confirmed: dict[str, Any] = {}

    def publish(self, envelope: Mapping[str, Any]) -> None:
        if envelope["type"] == self.refused:
            raise Unroutable(f"no queue is bound for {envelope['type']}")
        time.sleep(0.002)  # a confirm is a round trip
        self.confirmed[envelope["id"]] = utcnow()


def test_the_relay_passes_rows_in_backoff_and_failing_rows_and_records_each_confirm(db: Database) -> None:
    broker = _RefusesSome(UPDATED)
    relay = Relay(
        db,
        broker,
        durable=True,
        subscribed=frozenset({REGISTERED, UPDATED}),
        batch_size=20,
        first_backoff=timedelta(seconds=60),  # no row comes due again while the test runs
    )
    with db.unit_of_work() as uow:
        refused = [uow.publish(UPDATED, organisation(f"Refused {n}")) for n in range(25)]
        uow.commit()
    # The first 25 rows are refused once and then back off; 5 more wait behind them.
    assert relay.run_pass().postponed == 20
    assert relay.run_pass().postponed == 5
    behind = publish(db, *(f"Bound {n}" for n in range(5)))
    started = utcnow()
    done = relay.run_pass()
    assert (done.claimed, done.published, done.postponed) == (5, 5, 0)
    rows = {row.event_id: row for row in outbox_rows(db)}
    for event_id in behind:
        published_at = rows[event_id].published_at.replace(tzinfo=started.tzinfo)
        assert published_at >= broker.confirmed[event_id] > started  # the confirm's time, not the pass's
    assert {rows[e].published_at for e in behind} != {rows[behind[0]].published_at}
    assert all(rows[e].published_at is None and rows[e].attempts == 1 for e in refused)
    assert backlog(db)["unroutable"] == 25

    # A refused row mixed among good ones does not end the pass: the rows after it still go.
    outbox = db.messaging.outbox
    with db.unit_of_work() as uow:
        uow.session.execute(update(outbox).where(outbox.c.event_id == refused[0]).values(next_attempt_at=None))
        uow.commit()
    [late] = publish(db, "Bound after a refused one")
    done = relay.run_pass()
    assert (done.published, done.postponed) == (1, 1)
    assert rows[refused[0]].id < next(r.id for r in outbox_rows(db) if r.event_id == late)
    due = relay.next_due()
    assert due is not None and timedelta(seconds=50) < due - utcnow() <= timedelta(seconds=60)
    assert json.loads(outbox_rows(db)[-1].envelope)["id"] == late


def test_a_failed_step_tries_again_soon_rather_than_when_the_next_job_is_due(
    settings: Settings, db: Database, inbox: Inbox, effects: Effects
) -> None:
    bus = EmbeddedBus(settings, [Participant("notify", db, inbox)])
    bus.start()
    try:
        assert bus.wait_until_idle(10)
        relay = bus.relays[0]
        real_pass = relay.run_pass
        failed: list[float] = []

        def locked_once() -> RelayPass:
            if not failed:
                failed.append(time.monotonic())
                raise sqlite3.OperationalError("database is locked")
            return real_pass()

        relay.run_pass = locked_once  # type: ignore[method-assign]
        [event] = publish(db, "Locked Out Once Ltd")
        # The next scheduled job (housekeeping) is an hour away: the retry must not wait for it.
        wait_for(effects.rows, "the event after the failed step", timeout=5)
    finally:
        bus.stop()
    assert failed, "the step never failed"
    assert effects.rows() == [(event, "Locked Out Once Ltd")]


def test_idle_is_not_reported_while_a_commit_that_landed_mid_step_waits(
    settings: Settings, db: Database, inbox: Inbox, effects: Effects
) -> None:
    bus = EmbeddedBus(settings, [Participant("notify", db, inbox)])
    bus.start()
    try:
        assert bus.wait_until_idle(10)
        relay = bus.relays[0]
        real_pass = relay.run_pass
        passes: list[int] = []
        committed = threading.Event()

        def pass_then_commit() -> RelayPass:
            passes.append(1)
            if len(passes) == 2:
                time.sleep(0.3)  # the step that publishes the commit is slow
            done = real_pass()
            if len(passes) == 1:
                publish(db, "Committed Mid-Step Ltd")  # after this (empty) step's relay pass
                committed.set()
            return done

        relay.run_pass = pass_then_commit  # type: ignore[method-assign]
        bus.wake()  # an empty step
        assert committed.wait(5)
        assert bus.wait_until_idle(10)
        assert [name for _, name in effects.rows()] == ["Committed Mid-Step Ltd"]
    finally:
        bus.stop()
