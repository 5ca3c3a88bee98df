"""``parkhub dead-letters list|replay SERVICE``: what staff run when a handler kept failing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from parkhub_cli import main
from services.notify.models import database, directory
from shared.bus.deadletters import list_dead_letters
from shared.bus.inbox import Inbox, Outcome
from shared.events import Event
from shared.settings import Settings
from tests.bus.conftest import REGISTERED, organisation


def test_list_then_replay_delivers_the_event_to_the_real_handler(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PARKHUB_VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("PARKHUB_LOG_LEVEL", "WARNING")  # main() configures logging; keep the suite's level
    db = database(settings)
    event = Event(type=REGISTERED, source="/parkhub/gateway", data=organisation("Chengdu Leasing Co."))

    def broken(_event: Event, **_: object) -> None:
        raise ConnectionError("directory store unavailable")

    parked = Inbox("notify", db, {REGISTERED: broken})
    assert parked.deliver(event.to_dict(), attempt=parked.retry.attempts) is Outcome.DEAD_LETTERED

    assert main(["dead-letters", "list", "notify"]) == 0
    out, err = capsys.readouterr()
    [line] = out.splitlines()
    listed = json.loads(line)
    assert listed["event_id"] == event.id and "directory store unavailable" in listed["error"]
    assert "1 dead letter(s) in notify" in err

    assert main(["dead-letters", "replay", "notify"]) == 0
    assert capsys.readouterr().out.strip() == f"{listed['id']}: handled"
    with db.reading() as session:
        name = session.execute(select(directory.c.name).where(directory.c.id == event.data["id"])).scalar_one()
    assert name == "Chengdu Leasing Co."
    assert list_dead_letters(parked) == ([], 0)
