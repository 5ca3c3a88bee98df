"""``parkhub backup`` of a running embedded platform, and ``parkhub restore`` into a fresh var dir.

Real processes on loopback: ``parkhub serve`` over the whole demo (``parkhub seed``), finance's
documents kept in a directory (``PARKHUB_FINANCE_FILES``) so that a file store travels too; a
steady stream of organisations, reservations, consulting cases and finance applications with
their documents over HTTP (:class:`tests.chaos.rig.Stream`); ``parkhub backup`` run meanwhile.

The backup is one moment of the whole platform: what one database says of another holds in the
copies (every organisation a service knows is the gateway's; every event a subscriber handled is in
its publisher's outbox; every event its publisher settled is in every subscriber's inbox; every
reservation, case and application has its event; every stored document has its file). Restored
into a fresh directory and served, the platform answers the same data, delivers the events that
were still in the outboxes exactly once, and delivers nothing twice.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from shared.settings import DATABASES, SERVICES
from tests.chaos.counts import SUBSCRIBERS, Databases, aggregate, effects_twice
from tests.chaos.rig import Stream, serve_embedded, wait_until
from tests.ports import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SETTLE_SECONDS = 40.0
SNAPSHOT = (
    ("admin", "/api/v1/users?page_size=200"),
    ("admin", "/api/v1/organisations?page_size=200"),
    ("desk", "/api/v1/consulting/cases?page_size=200"),
    ("alice", "/api/v1/finance/applications?page_size=200"),
    ("alice", "/api/v1/booking/reservations?page_size=200"),
)
"""What the demo users see before the stream begins, compared with the restored platform's answers."""
NAMING = ("username", "name", "number", "subject", "title", "purpose", "start", "end", "amount")
"""The fields that name an item of :data:`SNAPSHOT` (those it has)."""
RELATION = {
    "identity.organisation.registered": ("gateway", "organisations"),
    "booking.reservation.confirmed": ("booking", "reservations"),
    "consulting.case.submitted": ("consulting", "cases"),
    "finance.application.submitted": ("finance", "applications"),
}
PATH = {
    "identity.organisation.registered": ("admin", "/api/v1/organisations/{}"),
    "booking.reservation.confirmed": ("admin", "/api/v1/booking/reservations/{}"),
    "consulting.case.submitted": ("admin", "/api/v1/consulting/cases/{}"),
    "finance.application.submitted": ("admin", "/api/v1/finance/applications/{}"),
}


def parkhub(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "parkhub_cli", *args],
        cwd=REPO,
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[str]:
    """``parkhub serve`` on a free port until the block ends (SIGTERM); its base URL."""
    port = free_port()
    process = serve_embedded(env, port, log)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)


def environment(var: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARKHUB_")},
        "PARKHUB_VAR_DIR": str(var),
        "PARKHUB_RATE_LIMIT": "1000000/minute",
        "PARKHUB_FINANCE_FILES": "files/finance",
    }


class Client:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.tokens: dict[str, str] = {}

    def get(self, user: str, path: str) -> requests.Response:
        if user not in self.tokens:
            form = {"grant_type": "password", "username": user, "password": "parkhub-demo"}
            answer = self.http.post(f"{self.base_url}/api/v1/auth/token", data=form, timeout=10)
            assert answer.status_code == 200, answer.text
            self.tokens[user] = answer.json()["access_token"]
        headers = {"Authorization": f"Bearer {self.tokens[user]}"}
        return self.http.get(f"{self.base_url}{path}", headers=headers, timeout=10)

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """Per path of :data:`SNAPSHOT`: every item by id, with what names it. (Not its status or
        version: the platform's own jobs route cases and complete reservations as time passes,
        in the running platform after the snapshot as in the restored one.)"""
        seen = {}
        for user, path in SNAPSHOT:
            answer = self.get(user, path)
            assert answer.status_code == 200, answer.text
            seen[path] = {item["id"]: tuple(item.get(key) for key in NAMING) for item in answer.json()["items"]}
        return seen


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def test_a_backup_taken_mid_stream_restores_one_consistent_platform(demo_platform: Path, tmp_path: Path) -> None:
    started = time.monotonic()
    var, backup_dir, fresh = tmp_path / "var", tmp_path / "backup", tmp_path / "restored"
    shutil.copytree(demo_platform, var)
    env = environment(var)
    with serving(env, tmp_path / "serve.log") as base_url:
        before = Client(base_url).snapshot()
        stream = Stream(base_url, uuid.uuid4().hex[:6])
        stream.start()
        try:
            stream.wait_for_operations(24, 60)
            backup_from = len(stream.ledger.operations)
            # Answered 2xx before the backup began: committed before its moment (an operation
            # joins the ledger before its request is sent, so one still in flight is not here).
            answered_before = [op for op in stream.ledger.operations if op.outcome == "ok"]
            taken = parkhub(env, "backup", str(backup_dir))
            backup_until = len(stream.ledger.operations)
            stream.wait_for_operations(backup_until + 8, 60)
        finally:
            stream.stop()
        assert not stream.errors, stream.errors
    assert taken.returncode == 0, taken.stderr
    assert "written to" in taken.stdout
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert set(manifest["databases"]) == set(DATABASES)
    assert any(path.startswith("files/finance/") for path in manifest["files"]), "no document file was backed up"
    assert any(path.startswith("keys/") for path in manifest["files"])
    copies = {name: backup_dir / "databases" / f"{name}.db" for name in DATABASES}

    # One moment: what each copy says of the others holds.
    organisations = {r[0] for r in rows(copies["gateway"], "SELECT id FROM organisations")}
    outbox = {
        name: {r[0]: r for r in rows(copies[name], "SELECT event_id, type, envelope, settled_at FROM outbox")}
        for name in DATABASES
    }
    published = {event_id: row for rows_ in outbox.values() for event_id, row in rows_.items()}
    inboxes = {s: {r[0] for r in rows(copies[s], "SELECT event_id FROM inbox")} for s in SERVICES}
    for service in SERVICES:
        known = {r[0] for r in rows(copies[service], "SELECT id FROM directory_organisations")}
        assert known <= organisations, f"{service} knows organisations the gateway's copy lacks"
        assert inboxes[service] <= set(published), f"{service} handled events no outbox of the backup holds"
    for event_id, (_, event_type, _, settled_at) in published.items():
        if settled_at is not None:
            for service in SUBSCRIBERS.get(event_type, ()):
                assert event_id in inboxes[service], f"{event_type} settled but not in {service}'s copy"
    for event_type, (database, table) in RELATION.items():
        about = {aggregate(json.loads(r[2])) for r in outbox[database].values() if r[1] == event_type}
        if event_type == "finance.application.submitted":
            ids = {r[0] for r in rows(copies[database], "SELECT id FROM applications WHERE status <> 'draft'")}
        elif event_type == "booking.reservation.confirmed":
            ids = {r[0] for r in rows(copies[database], "SELECT id FROM reservations WHERE status = 'confirmed'")}
        else:
            ids = {r[0] for r in rows(copies[database], f"SELECT id FROM {table}")}  # noqa: S608 - our names
        assert ids <= about, f"{len(ids - about)} {table} without their {event_type} event in the backup"
    stored = rows(copies["finance"], "SELECT storage_key FROM documents WHERE storage = 'filesystem'")
    assert stored, "no document of the backup is kept in the file store"
    for (storage_key,) in stored:
        assert (backup_dir / "files" / "finance" / storage_key[:2] / storage_key).is_file(), storage_key
    committed = stream.ledger.committed()
    in_backup = {"identity.organisation.registered": organisations}
    for event_type, (database, table) in RELATION.items():
        in_backup.setdefault(event_type, {r[0] for r in rows(copies[database], f"SELECT id FROM {table}")})  # noqa: S608
    for op in answered_before:
        if op.kind in in_backup:
            assert op.subject_id in in_backup[op.kind], (
                f"{op.kind} {op.marker}, answered before the backup, is not in it"
            )
    pending_at_backup = {e for e, r in published.items() if r[3] is None and r[1] in SUBSCRIBERS}

    # Restored into a fresh directory and served: the same data, each event once.
    restored_env = environment(fresh)
    done = parkhub(restored_env, "restore", str(backup_dir))
    assert done.returncode == 0, done.stderr
    assert parkhub(restored_env, "migrate").returncode == 0
    restored = {name: fresh / f"{name}.db" for name in DATABASES}
    with serving(restored_env, tmp_path / "restored.log") as base_url:
        client = Client(base_url)
        databases = Databases(lambda name: f"sqlite:///{restored[name]}")
        try:
            wait_until(
                lambda: all(
                    not databases.rows(name, "SELECT count(*) FROM outbox WHERE settled_at IS NULL")[0][0]
                    for name in DATABASES
                ),
                "every outbox row of the restored platform to be settled",
                SETTLE_SECONDS,
            )
            twice = effects_twice(databases)
        finally:
            databases.dispose()
        after = client.snapshot()
        for path, items in before.items():
            missing = {i: v for i, v in items.items() if after[path].get(i) != v}
            assert not missing, f"{path}: not served as before the backup: {list(missing.items())[:3]}"
        for op in committed:
            if op.kind in PATH and op.subject_id in in_backup.get(op.kind, set()):
                user, path = PATH[op.kind]
                assert client.get(user, path.format(op.subject_id)).status_code == 200, (op.kind, op.marker)
        for op in committed[backup_until:]:
            if op.kind in PATH and op.subject_id not in in_backup.get(op.kind, set()):
                user, path = PATH[op.kind]
                assert client.get(user, path.format(op.subject_id)).status_code == 404, (op.kind, op.marker)
        document = rows(restored["finance"], "SELECT application_id, id FROM documents WHERE storage = 'filesystem'")[0]
        download = client.get("alice", f"/api/v1/finance/applications/{document[0]}/documents/{document[1]}")
        assert download.status_code == 200 and download.content.startswith(b"%PDF"), download.status_code

    assert not twice, twice
    for service in SERVICES:
        handled = {r[0]: r[1] for r in rows(restored[service], "SELECT event_id, handled_at FROM inbox")}
        before_handled = dict(rows(copies[service], "SELECT event_id, handled_at FROM inbox"))
        assert all(handled[e] == at for e, at in before_handled.items()), f"{service} handled an old event again"
        for event_id in pending_at_backup:
            if service in SUBSCRIBERS.get(published[event_id][1], ()):
                assert event_id in handled, f"{service} never got {published[event_id][1]} pending at backup time"
    notices = dict(rows(copies["notify"], "SELECT event_id, count(*) FROM notifications GROUP BY event_id"))
    again = dict(rows(restored["notify"], "SELECT event_id, count(*) FROM notifications GROUP BY event_id"))
    assert all(again[e] == n for e, n in notices.items()), "a notification sent before the backup was sent again"
    print(
        f"\nbackup mid-stream: {backup_until - backup_from} operations answered while it ran,"
        f" {len(pending_at_backup)} events pending at backup time delivered once after restore;"
        f" {time.monotonic() - started:.0f} s"
    )
