"""Outbox, relay and inbox on the embedded kombu bus: what a service can rely on."""

from __future__ import annotations

import json

import pytest
from marshmallow import Schema, fields
from sqlalchemy import func, select

from shared.bus.deadletters import list_dead_letters, replay
from shared.bus.embedded_bus import EmbeddedBus
from shared.bus.inbox import Inbox, Outcome
from shared.bus.outbox import Relay
from shared.bus.runtime import Participant
from shared.bus.topology import Topology
from shared.bus.transport import KombuPublisher, connect, declare
from shared.db import Database
from shared.events import Contract, ContractViolation, Event, register
from shared.events.contracts import handles
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
    too_long = {**Event(type=REGISTERED, source="/x", data=organisation()).to_dict(), "id": "e" * 37}
    assert inbox.deliver(too_long) is Outcome.DEAD_LETTERED
    letters, total = list_dead_letters(inbox)
    assert total == 3 and letters[2].event_id == "e" * 36
    assert letters[0].attempts == 0 and "contract violation" in letters[0].error
    assert "invalid envelope" in letters[1].error
    assert effects.rows() == []


def test_a_handler_that_keeps_failing_dead_letters_its_event_and_replay_delivers_it(
    db: Database, inbox: Inbox, effects: Effects
) -> None:
    publish(db, "Sichuan IP Agency")
    envelope = json.loads(outbox_rows(db)[0]["envelope"])
    effects.failing = True
    # One try per delivery: the caller redelivers later with the next attempt; the last one parks it.
    assert [inbox.deliver(envelope, attempt=n) for n in (1, 2, 3)] == [
        Outcome.RETRY,
        Outcome.RETRY,
        Outcome.DEAD_LETTERED,
    ]
    [letter], _ = list_dead_letters(inbox)
    assert letter.attempts == 3 and "partner system is down" in letter.error

    # Still failing: a replay is one more attempt on the same letter, no second letter appears.
    assert replay(inbox, letter.id, by="user:admin") is Outcome.DEAD_LETTERED
    [letter], total = list_dead_letters(inbox)
    assert total == 1 and letter.attempts == 4

    effects.failing = False
    assert replay(inbox, letter.id, by="user:admin") is Outcome.HANDLED
    assert effects.rows() == [(envelope["id"], "Sichuan IP Agency")]
    assert list_dead_letters(inbox) == ([], 0)
    [replayed], _ = list_dead_letters(inbox, include_replayed=True)
    assert replayed.replayed_at is not None
    # Replaying the replayed letter again has no second effect, and the record stays as it was.
    assert replay(inbox, letter.id, by="user:desk") is Outcome.DUPLICATE
    assert len(effects.rows()) == 1
    [again], _ = list_dead_letters(inbox, include_replayed=True)
    assert again.replayed_at == replayed.replayed_at


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
        declare(connection, settings, Topology.of({"notify": inbox.event_types}))
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


class _SampleV1(Schema):
    name = fields.String(required=True)


class _SampleV2(Schema):
    full_name = fields.String(required=True)


SAMPLE_V1 = register(Contract("testing.sample.happened", 1, _SampleV1))
SAMPLE_V2 = register(Contract("testing.sample.happened", 2, _SampleV2))


def test_contracts_evolve_without_breaking_consumers(db: Database) -> None:
    seen: list[tuple[int, dict]] = []

    def old_consumer(event: Event, *, uow: object) -> None:
        seen.append((event.version, event.data))

    @handles(1, 2)
    def new_consumer(event: Event, *, uow: object) -> None:
        seen.append((event.version, event.data))

    # Publishers are strict: a field the contract does not know is refused.
    with pytest.raises(ContractViolation):
        with db.unit_of_work() as uow:
            uow.publish(SAMPLE_V1.type, {"name": "x", "extra": 1}, version=1)

    # Consumers are tolerant: an added optional field (published by newer code) is dropped.
    added = Event(type=SAMPLE_V1.type, source="/parkhub/newer", data={"name": "Hall A", "capacity": 1000})
    old = Inbox("notify", db, {SAMPLE_V1.type: old_consumer})
    assert old.deliver(added.to_dict()) is Outcome.HANDLED
    assert seen == [(1, {"name": "Hall A"})]

    # A breaking change is v2, published beside v1; each consumer takes the version it knows.
    with db.unit_of_work() as uow:
        uow.publish(SAMPLE_V2.type, {"full_name": "Hall B"})  # the newest version by default
        uow.publish(SAMPLE_V1.type, {"name": "Hall B"}, version=1)
        uow.commit()
    envelopes = [json.loads(row["envelope"]) for row in outbox_rows(db)]
    assert [e["dataschema"] for e in envelopes] == [
        "urn:parkhub:testing.sample.happened:2",
        "urn:parkhub:testing.sample.happened:1",
    ]
    seen.clear()
    assert [old.deliver(e) for e in envelopes] == [Outcome.IGNORED, Outcome.HANDLED]
    new = Inbox("finance", db, {SAMPLE_V2.type: new_consumer})
    # Both inboxes share this test database, so the second gets the same events under new ids.
    fresh = [
        Event(type=SAMPLE_V2.type, source="/parkhub/x", data=e["data"], version=int(e["dataschema"][-1]))
        for e in envelopes
    ]
    assert [new.deliver(e.to_dict()) for e in fresh] == [Outcome.HANDLED, Outcome.HANDLED]
    assert seen == [(1, {"name": "Hall B"}), (2, {"full_name": "Hall B"}), (1, {"name": "Hall B"})]
