"""The distributed mode's backup: ``pg_dump -Fc`` of each database, ``pg_restore`` into fresh ones.

The procedure of docs/OPERATIONS.md ("Backup and restore"), run for real on this machine's
PostgreSQL: a platform's five databases built by the migrations, loaded by the seed and used over
HTTP (organisations registered and renamed, a reservation, a consulting case), every event
delivered; each database dumped with ``pg_dump -Fc``, restored with ``pg_restore`` into five new
databases, the keys directory copied; a platform pointed at the new databases serves the same
data to the same users (their passwords and the tokens signed before the dump still work) and
delivers no event a second time: the outbox and the inbox travel inside each database, no broker
state is needed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from glob import glob
from pathlib import Path
from typing import Any

import pytest

from embedded import EmbeddedPlatform
from migrations import upgrade_all
from shared.clock import PARK_TZ
from shared.db import forget_databases
from shared.settings import DATABASES, SERVICES
from tests.chaos.counts import Databases, effects_twice
from tests.conftest import make_settings
from tests.park import Park
from tests.servers import PostgresDatabases

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SNAPSHOT = (
    ("admin", "/api/v1/users?page_size=200"),
    ("admin", "/api/v1/organisations?page_size=200"),
    ("desk", "/api/v1/consulting/cases?page_size=200"),
    ("alice", "/api/v1/finance/applications?page_size=200"),
    ("alice", "/api/v1/booking/reservations?page_size=200"),
    ("alice", "/api/v1/notify/notifications?page_size=200"),
)
NAMING = ("id", "username", "name", "number", "subject", "title", "purpose", "start", "end", "amount", "event_type")


def pg_tool(name: str) -> str:
    """``pg_dump`` or ``pg_restore`` of the newest PostgreSQL installed (the server's major or newer)."""
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    tool = found[-1] if found else shutil.which(name)
    if tool is None:
        pytest.fail(f"{name} is not installed (apt-get install postgresql-client)", pytrace=False)
    return tool


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def running(var: Path, template: str) -> Iterator[Park]:
    """The whole platform in one process over the databases of ``template`` (the in-memory bus:
    what is delivered is read from the inboxes, not from a broker)."""
    platform = EmbeddedPlatform(make_settings(var, PARKHUB_DATABASE_URL_TEMPLATE=template))
    platform.start()
    try:
        assert platform.bus.wait_until_idle(60), "the embedded bus never became idle"
        yield Park(platform)
        assert platform.bus.wait_until_idle(60), "the embedded bus never became idle"
    finally:
        platform.stop()
        forget_databases()  # no pooled connection may outlive the platform (dumps, drops)


def snapshot(park: Park) -> dict[str, list[tuple[Any, ...]]]:
    seen = {}
    for user, path in SNAPSHOT:
        answer = park.as_user(user, "GET", path)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        seen[path] = sorted(tuple(item.get(k) for k in NAMING) for item in answer.json["items"])
    return seen


def use(park: Park) -> None:
    """Organisations registered and one renamed, a reservation, a consulting case: events for every service."""
    for n in range(3):
        made = park.as_user("admin", "POST", "/api/v1/organisations", json={"name": f"Dump Bio {n}", "kind": "tenant"})
        assert made.status_code == 201, made.get_data(as_text=True)
    renamed = park.as_user(
        "admin",
        "PATCH",
        f"/api/v1/organisations/{made.json['id']}",
        json={"name": "Dump Bio renamed"},
        headers={"If-Match": made.headers["ETag"]},
    )
    assert renamed.status_code == 200, renamed.get_data(as_text=True)
    spaces = park.as_user("alice", "GET", "/api/v1/booking/spaces?page_size=200").json["items"]
    room = next(s["id"] for s in spaces if s["kind"] == "conference_room" and s["approval"]["mode"] == "never")
    day = datetime.now(PARK_TZ).date() + timedelta(days=30)
    start = datetime(day.year, day.month, day.day, 10, tzinfo=PARK_TZ)
    body = {
        "space_id": room,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "title": "Dumped meeting",
        "attendees": 4,
    }
    booked = park.as_user("alice", "POST", "/api/v1/booking/reservations", json=body)
    assert booked.status_code == 201, booked.get_data(as_text=True)
    items = park.as_user("bob", "GET", "/api/v1/consulting/items").json
    item = next(
        i["id"] for i in (items["items"] if isinstance(items, dict) else items) if i["code"] == "legal_consultation"
    )
    case = {
        "item_id": item,
        "subject": "Dumped question",
        "description": "Asked before the dump.",
        "answers": {"question": "Is it there after the restore?"},
    }
    asked = park.as_user("bob", "POST", "/api/v1/consulting/cases", json=case)
    assert asked.status_code == 201, asked.get_data(as_text=True)


def delivered(template: str) -> tuple[dict[str, dict[str, Any]], dict[str, int], list[str]]:
    """Every service's inbox (event id: handled at), notify's notifications per event, effects twice."""
    databases = Databases(lambda name: template.format(name=name))
    try:
        inboxes = {s: dict(databases.rows(s, "SELECT event_id, handled_at FROM inbox")) for s in SERVICES}
        notices = dict(databases.rows("notify", "SELECT event_id, count(*) FROM notifications GROUP BY event_id"))
        unsettled = sum(
            databases.rows(n, "SELECT count(*) FROM outbox WHERE settled_at IS NULL")[0][0] for n in DATABASES
        )
        assert unsettled == 0, f"{unsettled} events not delivered"
        return inboxes, notices, effects_twice(databases)
    finally:
        databases.dispose()


def test_pg_dump_and_pg_restore_move_the_platform_to_fresh_databases(
    postgres_databases: PostgresDatabases, tmp_path: Path
) -> None:
    from parkhub_cli import _seed

    original = postgres_databases.new_set()
    var = tmp_path / "var"
    settings = make_settings(var, PARKHUB_DATABASE_URL_TEMPLATE=original)
    upgrade_all(settings)  # parkhub migrate
    assert _seed(settings, argparse.Namespace()) == 0  # parkhub seed
    forget_databases()
    with running(var, original) as park:
        use(park)
        token = park.token("alice")
        assert park.platform.bus.wait_until_idle(60)
        before = snapshot(park)  # what the platform serves once everything is delivered
    inboxes, notices, twice = delivered(original)
    assert not twice, twice

    # The procedure: one custom-format dump per database, restored into fresh databases.
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    for name in DATABASES:
        subprocess.run(
            [pg_tool("pg_dump"), "-Fc", "-f", str(dumps / f"{name}.dump"), libpq(original.format(name=name))],
            check=True,
            capture_output=True,
            timeout=120,
        )
    fresh = postgres_databases.new_set()
    for name in DATABASES:
        subprocess.run(
            [
                pg_tool("pg_restore"),
                "--no-owner",
                "--exit-on-error",
                "-d",
                libpq(fresh.format(name=name)),
                str(dumps / f"{name}.dump"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    restored_var = tmp_path / "restored"
    shutil.copytree(var / "keys", restored_var / "keys")  # the signing and client-secret keys

    with running(restored_var, fresh) as park:
        after = snapshot(park)
        mine = park.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert mine.status_code == 200, "a token signed before the dump is refused after the restore"
        assert park.token("bob")  # passwords travelled
    assert after == before
    inboxes_after, notices_after, twice = delivered(fresh)
    assert not twice, twice
    for service in SERVICES:
        again = {e for e, at in inboxes[service].items() if inboxes_after[service].get(e) != at}
        assert not again, f"{service} handled {len(again)} event(s) a second time after the restore"
    assert {e: notices_after.get(e) for e in notices} == notices, "a notification was sent again"
