"""What ``parkhub backup`` and ``parkhub restore`` refuse, and a backup of an older schema.

Through the CLI's entry point (:func:`parkhub_cli.main`, configured by ``PARKHUB_*`` variables as
in production) over databases built by the migrations and loaded by the seed. A refusal exits 1,
says why on stderr, and writes nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

import parkhub_cli
from embedded import EmbeddedPlatform
from migrations import alembic_config, upgrade
from shared.db import forget_databases
from shared.settings import DATABASES, SERVICES
from tests.chaos.counts import SUBSCRIBERS, Databases, effects_twice
from tests.conftest import make_settings

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    """``cli(var, *args)``: runs ``parkhub *args`` with ``PARKHUB_VAR_DIR=var``; (exit code, stdout, stderr)."""

    def run(var: Path, *args: str) -> tuple[int, str, str]:
        for name in [n for n in os.environ if n.startswith("PARKHUB_")]:
            monkeypatch.delenv(name)
        monkeypatch.setenv("PARKHUB_VAR_DIR", str(var))
        capsys.readouterr()
        code = parkhub_cli.main(list(args))
        forget_databases()  # the CLI's engines must not outlive the files a test replaces
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def backed_up(seeded_platform: Path, tmp_path: Path, cli: Cli) -> Path:
    var = tmp_path / "var"
    shutil.copytree(seeded_platform, var)
    code, out, err = cli(var, "backup", str(tmp_path / "backup"))
    assert code == 0, err
    return tmp_path / "backup"


def flip_a_byte(backup: Path) -> None:
    path = backup / "databases" / "booking.db"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def organisations(database: Path) -> set[str]:
    with sqlite3.connect(database) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM organisations")}


def test_a_restore_into_a_fresh_directory_has_the_same_data(backed_up: Path, tmp_path: Path, cli: Cli) -> None:
    code, out, err = cli(tmp_path / "fresh", "restore", str(backed_up))
    assert code == 0, err
    assert "restored 5 databases" in out
    assert organisations(tmp_path / "fresh" / "gateway.db") == organisations(tmp_path / "var" / "gateway.db")
    keys = {p.name: p.read_bytes() for p in (tmp_path / "var" / "keys").iterdir()}
    assert keys, "the seed wrote no key"
    assert {p.name: p.read_bytes() for p in (tmp_path / "fresh" / "keys").iterdir()} == keys


@pytest.mark.parametrize(
    ("damage", "says"),
    [
        (flip_a_byte, "checksum differs: databases/booking.db"),
        (lambda b: b.joinpath("databases", "notify.db").unlink(), "missing: databases/notify.db"),
        (lambda b: b.joinpath("keys", "extra.pem").write_text("?"), "not in the manifest: keys/extra.pem"),
        (lambda b: b.joinpath("manifest.json").unlink(), "holds no manifest.json"),
        (lambda b: b.joinpath("manifest.json").write_text("{"), "is not a backup manifest"),
        (
            lambda b: b.joinpath("manifest.json").write_text('{"files": {}, "databases": [1]}'),
            "is not a backup manifest",
        ),
    ],
    ids=["tampered", "partial", "extra-file", "no-manifest", "garbled-manifest", "wrong-manifest"],
)
def test_a_damaged_backup_is_refused_and_nothing_is_written(
    backed_up: Path,
    tmp_path: Path,
    cli: Cli,
    damage: Callable[[Path], object],
    says: str,
) -> None:
    damage(backed_up)
    code, out, err = cli(tmp_path / "fresh", "restore", str(backed_up))
    assert code == 1
    assert says in err
    assert not (tmp_path / "fresh").exists() or not any((tmp_path / "fresh").rglob("*"))


def test_a_restore_never_overwrites_databases_unless_forced(backed_up: Path, tmp_path: Path, cli: Cli) -> None:
    var = tmp_path / "var"
    with sqlite3.connect(var / "gateway.db") as connection:  # a change after the backup
        connection.execute("UPDATE organisations SET name = name || ' (changed after the backup)'")
    changed = organisations(var / "gateway.db")

    code, _, err = cli(var, "restore", str(backed_up))
    assert code == 1 and "databases exist already" in err and "--force" in err
    assert organisations(var / "gateway.db") == changed

    code, _, err = cli(var, "restore", "--force", str(backed_up))
    assert code == 0, err
    assert not [n for n in organisations(var / "gateway.db") if "changed after the backup" in n]
    assert not (var / "gateway.db-wal").exists() or (var / "gateway.db-wal").stat().st_size == 0


def test_a_backup_never_writes_into_a_directory_that_is_not_empty(
    seeded_platform: Path, tmp_path: Path, cli: Cli
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    code, _, err = cli(seeded_platform, "backup", str(tmp_path / "busy"))
    assert code == 1 and "not an empty directory" in err
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]


def test_the_distributed_mode_is_pointed_to_pg_dump(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        parkhub_cli.Settings,
        "from_env",
        classmethod(
            lambda cls, env=None: cls(
                var_dir=tmp_path, database_urls={n: f"postgresql+psycopg://db/{n}" for n in DATABASES}
            )
        ),
    )
    code, _, err = cli(tmp_path, "backup", str(tmp_path / "b"))
    assert code == 1 and "pg_dump" in err
    assert not (tmp_path / "b").exists()


def test_a_backup_of_an_older_schema_is_upgraded_by_migrate(tmp_path: Path, cli: Cli) -> None:
    old = tmp_path / "old"
    previous = {}
    for name in DATABASES:
        url = f"sqlite:///{old}/{name}.db"
        head = ScriptDirectory.from_config(alembic_config(name, url)).get_revision("head")
        previous[name] = head.down_revision
        upgrade(name, url, str(head.down_revision))
    forget_databases()
    code, out, err = cli(old, "backup", str(tmp_path / "backup"))
    assert code == 0, err
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert {n: d["migration_revision"] for n, d in manifest["databases"].items()} == previous

    assert cli(tmp_path / "fresh", "restore", str(tmp_path / "backup"))[0] == 0
    code, out, err = cli(tmp_path / "fresh", "migrate")
    assert code == 0, err
    for name in DATABASES:
        url = f"sqlite:///{tmp_path}/fresh/{name}.db"
        head = ScriptDirectory.from_config(alembic_config(name, url)).get_current_head()
        with sqlite3.connect(tmp_path / "fresh" / f"{name}.db") as connection:
            assert connection.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head


def test_events_still_in_the_outboxes_are_delivered_once_after_a_restore(
    demo_platform: Path, tmp_path: Path, cli: Cli
) -> None:
    """``parkhub seed`` leaves the gateway's identity events in its outbox (no bus ran), and hands
    the organisations among them to consulting's and finance's inboxes itself: at backup time
    some events are pending for some subscribers and handled by others."""
    var = tmp_path / "var"
    shutil.copytree(demo_platform, var)
    assert cli(var, "backup", str(tmp_path / "backup"))[0] == 0
    copies = {name: tmp_path / "backup" / "databases" / f"{name}.db" for name in DATABASES}
    pending = {
        event_id: event_type
        for name in DATABASES
        for event_id, event_type in rows(copies[name], "SELECT event_id, type FROM outbox WHERE settled_at IS NULL")
        if event_type in SUBSCRIBERS
    }
    handled = {s: dict(rows(copies[s], "SELECT event_id, handled_at FROM inbox")) for s in SERVICES}
    assert pending and any(e in handled[s] for s in SERVICES for e in pending), "nothing pending and handled"

    fresh = tmp_path / "fresh"
    assert cli(fresh, "restore", str(tmp_path / "backup"))[0] == 0
    platform = EmbeddedPlatform(make_settings(fresh))
    platform.start()
    try:
        assert platform.bus.wait_until_idle(60), "the restored platform never delivered its backlog"
    finally:
        platform.stop()
        forget_databases()

    restored = {name: fresh / f"{name}.db" for name in DATABASES}
    for service in SERVICES:
        inbox = dict(rows(restored[service], "SELECT event_id, handled_at FROM inbox"))
        for event_id, event_type in pending.items():
            if service in SUBSCRIBERS[event_type]:
                assert event_id in inbox, f"{service} never got {event_type} pending at backup time"
        again = [e for e, at in handled[service].items() if inbox[e] != at]
        assert not again, f"{service} handled {len(again)} event(s) it had handled before the backup"
    for name in DATABASES:
        assert rows(restored[name], "SELECT count(*) FROM outbox WHERE settled_at IS NULL") == [(0,)]
    databases = Databases(lambda name: f"sqlite:///{restored[name]}")
    try:
        assert not effects_twice(databases)
    finally:
        databases.dispose()
    organisations_count = rows(restored["gateway"], "SELECT count(*) FROM organisations")
    for service in SERVICES:
        assert rows(restored[service], "SELECT count(*) FROM directory_organisations") == organisations_count


def test_a_backup_that_cannot_take_a_lock_leaves_nothing_behind(
    seeded_platform: Path, tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer holding a database past the wait: the backup gives up, says which database, and
    leaves the directory empty (no half backup to mistake for one, nothing blocking a retry)."""
    var = tmp_path / "var"
    shutil.copytree(seeded_platform, var)
    monkeypatch.setattr("embedded.backup.LOCK_SECONDS", 0.3)
    writer = sqlite3.connect(var / "consulting.db", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        code, _, err = cli(var, "backup", str(tmp_path / "backup"))
    finally:
        writer.close()
    assert code == 1 and "the consulting database stayed locked" in err
    assert list((tmp_path / "backup").iterdir()) == []
    with sqlite3.connect(var / "gateway.db") as connection:  # the locks taken before were let go
        connection.execute("UPDATE organisations SET version = version")
    assert cli(var, "backup", str(tmp_path / "backup"))[0] == 0
