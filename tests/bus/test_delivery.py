"""Outbox, relay and inbox on the embedded kombu bus: what a service can rely on."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from shared.bus.deadletters import list_dead_letters, replay
from shared.bus.inbox import Inbox, Outcome
from shared.bus.outbox import Relay
from shared.bus.runtime import EmbeddedBus, Participant
from shared.bus.transport import KombuPublisher, connect, declare
from shared.db import Database
from shared.events import ContractViolation, Event
from shared.settings import Settings
from tests.bus.conftest import REGISTERED, Effects, organisation, publish


def outbox_rows(db: Database) -> list[dict]:
    outbox = db.messaging.outbox
    with db.reading() as session:
        return [dict(r) for r in session.execute(select(outbox).order_by(outbox.c.id)).mappings()]


def test_an_invalid_payload_is_refused_at_publish_and_nothing_is_written(db: Database) -> None:
    with pytest.raises(ContractViolation) as refused:
        with db.unit_of_work() as uow:
            uow.publish(REGISTERED, organisation(kind="spaceship"))
            uow.commit()
    assert "kind" in refused.value.errors
    with pytest.raises(ContractViolation):
        with db.unit_of_work() as uow:
            uow.publish("identity.organisation.vanished", {"id": "x"})
    assert outbox_rows(db) == []


def test_published_events_wait_in_the_outbox_as_cloudevents(db: Database) -> None:
    [event_id] = publish(db, "Tianfu Bio-Imaging AI", correlationid="req-42")
    [row] = outbox_rows(db)
    envelope = json.loads(row["envelope"])
    assert row["published_at"] is None
    assert envelope["specversion"] == "1.0"
    assert envelope["id"] == event_id
    assert envelope["type"] == REGISTERED
    assert envelope["dataschema"] == f"urn:parkhub:{REGISTERED}:1"
    assert envelope["correlationid"] == "req-42"
    assert envelope["source"] == "/parkhub/notify"
    assert Event.from_dict(envelope).data["name"] == "Tianfu Bio-Imaging AI"


def test_a_duplicated_message_has_one_effect(db: Database, inbox: Inbox, effects: Effects) -> None:
    publish(db, "Chengdu Cell Therapeutics")
    envelope = json.loads(outbox_rows(db)[0]["envelope"])
    assert inbox.deliver(envelope) is Outcome.HANDLED
    assert inbox.deliver(json.dumps(envelope)) is Outcome.DUPLICATE
    assert inbox.deliver(envelope) is Outcome.DUPLICATE
    assert effects.rows() == [(envelope["id"], "Chengdu Cell Therapeutics")]


def test_a_message_breaking_its_contract_is_dead_lettered_without_retries(inbox: Inbox, effects: Effects) -> None:
    event = Event(type=REGISTERED, source="/parkhub/elsewhere", data=organisation(status="on holiday"))
    assert inbox.deliver(event.to_dict()) is Outcome.DEAD_LETTERED
    assert inbox.deliver({"specversion": "0.3", "id": "x"}) is Outcome.DEAD_LETTERED
    letters, total = list_dead_letters(inbox)
    assert total == 2
    assert letters[0].attempts == 0 and "contract violation" in letters[0].error
    assert "invalid envelope" in letters[1].error
    assert effects.rows() == []


def test_a_handler_that_keeps_failing_dead_letters_its_event_and_replay_delivers_it(
    db: Database, inbox: Inbox, effects: Effects
) -> None:
    publish(db, "Sichuan IP Agency")
    envelope = json.loads(outbox_rows(db)[0]["envelope"])
    effects.failing = True
    assert inbox.deliver(envelope) is Outcome.DEAD_LETTERED
    [letter], _ = list_dead_letters(inbox)
    assert letter.attempts == 3 and "partner system is down" in letter.error

    # Still failing: the same letter records the new attempts, no second letter appears.
    assert replay(inbox, letter.id, by="user:admin") is Outcome.DEAD_LETTERED
    [letter], total = list_dead_letters(inbox)
    assert total == 1 and letter.attempts == 6

    effects.failing = False
    assert replay(inbox, letter.id, by="user:admin") is Outcome.HANDLED
    assert effects.rows() == [(envelope["id"], "Sichuan IP Agency")]
    assert list_dead_letters(inbox) == ([], 0)
    [replayed], _ = list_dead_letters(inbox, include_replayed=True)
    assert replayed.replayed_at is not None
    # Replaying the replayed letter again has no second effect.
    assert replay(inbox, letter.id, by="user:admin") is Outcome.DUPLICATE
    assert len(effects.rows()) == 1


class _DiesAfterPublishing:
    """A publisher whose process 'dies' once it has published ``survive`` messages."""

    def __init__(self, inner: KombuPublisher, survive: int) -> None:
        self.inner, self.left = inner, survive

    def publish(self, envelope: dict) -> None:
        self.inner.publish(envelope)
        self.left -= 1
        if self.left == 0:
            raise SystemExit("killed between publishing and marking the row")


def test_a_relay_killed_after_publishing_before_marking_loses_nothing_and_applies_nothing_twice(
    settings: Settings, db: Database, inbox: Inbox, effects: Effects
) -> None:
    names = [f"Tenant {n}" for n in range(5)]
    ids = publish(db, *names)
    with connect(settings) as connection:
        declare(connection, settings, {"notify": inbox.event_types})
    publisher = KombuPublisher(settings)
    dying = Relay(db, _DiesAfterPublishing(publisher, survive=3), durable=False)
    with pytest.raises(SystemExit):
        dying.run_once()
    publisher.close()
    # Three messages wait in the queue, yet no row was marked: the next relay sends all five.
    assert all(row["published_at"] is None for row in outbox_rows(db))
    bus = EmbeddedBus(settings, [Participant("notify", db, inbox)])
    bus.start()
    try:
        assert bus.wait_until_idle(10)
    finally:
        bus.stop()
    assert sorted(effects.rows()) == sorted(zip(ids, names, strict=True))
    assert all(row["settled_at"] is not None for row in outbox_rows(db))


def test_the_embedded_bus_republishes_what_a_crash_may_have_lost(
    settings: Settings, db: Database, inbox: Inbox, effects: Effects
) -> None:
    ids = publish(db, "Before the crash")
    # As a killed process leaves it: published to its in-memory queue, never settled.
    outbox = db.messaging.outbox
    with db.unit_of_work() as uow:
        uow.session.execute(outbox.update().values(published_at=func.now()))
        uow.commit()
    bus = EmbeddedBus(settings, [Participant("notify", db, inbox)])
    bus.start()
    try:
        assert bus.wait_until_idle(10)
    finally:
        bus.stop()
    assert effects.rows() == [(ids[0], "Before the crash")]
