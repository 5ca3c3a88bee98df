"""Backup and restore of the embedded mode (``parkhub backup DIR``, ``parkhub restore DIR``).

A backup is a directory: ``databases/<name>.db`` for the gateway's and every service's SQLite
database, ``keys/`` (the gateway's signing keys and its client-secret key: without them the
restored platform could not check the tokens and partner secrets it issued), ``files/<service>/``
for a service that keeps uploaded files in a directory (``PARKHUB_CONSULTING_FILES``,
``PARKHUB_FINANCE_FILES``; by default they are rows of the service's own database and travel with
it), and ``manifest.json``, written last: the time, each database's migration revision and every
file's sha256. A directory without a manifest is a partial backup and is refused.

**One moment for every database.** Each database is taken with ``BEGIN IMMEDIATE`` first, in the
fixed order of :data:`DATABASES`, before anything is copied, and released only after the last copy:
while the copies run no write commits anywhere, so the backup is one cut across the platform. That
matters because the services agree only through events: an organisation the gateway has is either
in a service's directory or still in the gateway's outbox (unsettled), never lost between the two,
and an event the gateway's outbox shows settled is in every subscriber's inbox. Copying one database
after another without the locks would let an event be settled in a later copy but missing from an
earlier one. The fixed order means two backups at once never hold a lock the other waits for. The
copies use SQLite's online backup API from a second connection: in WAL mode readers are never
blocked, and writers wait (SQLite's busy timeout, 30 s in :mod:`shared.db`) for the few hundred
milliseconds the copies take. (The backup cannot read through the connection that holds the write
lock: SQLite refuses a backup whose source connection is writing.)

A file store's directory is copied while the locks are held too: a file is written before the
transaction that names it commits, so every committed row finds its file in the copy.

**Restore** checks the whole backup against its manifest first (every listed file present with its
checksum, nothing unlisted, every database there) and writes nothing when anything is off; it
refuses to overwrite databases that exist unless forced, and it must run while the platform is
stopped. Events need no broker state: each database's outbox and inbox travel inside it. At the
next start the embedded bus makes the outbox rows that were not settled pending again, so events in
flight at backup time are delivered once, and the inboxes drop what a subscriber had already
handled. A backup of an older schema is upgraded by ``parkhub migrate`` as usual.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from shared.settings import DATABASES, Settings

MANIFEST = "manifest.json"
FORMAT = 1
LOCK_SECONDS = 30.0
"""How long a backup waits for a database's write lock (a writer's transaction to end)."""
FILE_STORES = {"consulting": "consulting_files", "finance": "finance_files"}
"""The services that may keep uploaded files in a directory, and their settings' names."""


class BackupError(RuntimeError):
    """A backup cannot be made or restored; the message says why, for an operator."""


@dataclass(frozen=True)
class Restored:
    """What :func:`restore` wrote."""

    databases: dict[str, Path]
    files: int


def sqlite_paths(settings: Settings) -> dict[str, Path]:
    """Every database's file; a database that is not a SQLite file is a :class:`BackupError`
    (the distributed mode is backed up with ``pg_dump``: docs/OPERATIONS.md)."""
    paths: dict[str, Path] = {}
    for name in DATABASES:
        url = make_url(settings.database_url(name))
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            raise BackupError(
                f"the {name} database is not a SQLite file ({url.get_backend_name()}): "
                "back up PostgreSQL with pg_dump (docs/OPERATIONS.md, 'Backup and restore')"
            )
        paths[name] = Path(str(url.database))
    return paths


def file_store_dirs(settings: Settings) -> dict[str, Path]:
    """The directories of the services whose setting keeps uploaded files in one."""
    dirs: dict[str, Path] = {}
    for service, setting in FILE_STORES.items():
        value = getattr(settings, setting)
        if value != "database":
            dirs[service] = settings.var_dir / value  # an absolute value stays absolute
    return dirs


# -- backup -------------------------------------------------------------------------------------


def backup(settings: Settings, target: Path) -> dict[str, Any]:
    """Copy the whole platform into ``target`` (absent or empty) at one moment; returns the
    manifest. Raises :class:`BackupError` (nothing useful written) when it cannot."""
    sources = sqlite_paths(settings)
    missing = [name for name, path in sources.items() if not path.exists()]
    if missing:
        raise BackupError(f"no database to back up: {', '.join(missing)} (run 'parkhub migrate' first?)")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} is not an empty directory: a backup never overwrites anything")
    target.mkdir(parents=True, exist_ok=True)
    try:
        return _copy_everything(settings, sources, target)
    except BaseException:
        # The directory was empty: what is in it now is this backup's half, which must not be
        # mistaken for a backup (it has no manifest) nor block the next attempt.
        for entry in target.iterdir():
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        raise


def _copy_everything(settings: Settings, sources: dict[str, Path], target: Path) -> dict[str, Any]:
    (target / "databases").mkdir()
    revisions: dict[str, str | None] = {}
    taken_at = ""
    with _all_write_locks(sources):
        taken_at = datetime.now(UTC).isoformat(timespec="seconds")
        for name, source in sources.items():
            copy = target / "databases" / f"{name}.db"
            _online_copy(source, copy)
            revisions[name] = _revision(copy)
        if settings.keys_dir.is_dir():
            shutil.copytree(settings.keys_dir, target / "keys")
        stores = file_store_dirs(settings)
        for service, directory in stores.items():
            if directory.is_dir():
                # A file being written is a hidden temporary until renamed: not a stored file yet.
                shutil.copytree(
                    directory,
                    target / "files" / service,
                    ignore=shutil.ignore_patterns(".incoming-*"),
                    copy_function=_copy_unless_deleted,
                )
    manifest = {
        "format": FORMAT,
        "kind": "parkhub-embedded-backup",
        "taken_at": taken_at,
        "databases": {
            name: {"file": f"databases/{name}.db", "migration_revision": revisions[name]} for name in sources
        },
        "file_stores": {service: getattr(settings, FILE_STORES[service]) for service in stores},
        "files": {path: _sha256(target / path) for path in _listed(target)},
    }
    _write_atomically(target / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
    return manifest


@contextmanager
def _all_write_locks(sources: dict[str, Path]) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` on every database, in :data:`DATABASES` order, held until the block
    ends; then rolled back (the lock holders wrote nothing)."""
    with ExitStack() as stack:
        for name in DATABASES:
            connection = sqlite3.connect(sources[name], timeout=LOCK_SECONDS, isolation_level=None)
            stack.callback(connection.close)
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise BackupError(f"the {name} database stayed locked for {LOCK_SECONDS:.0f} s: {exc}") from exc
            stack.callback(connection.execute, "ROLLBACK")
        yield


def _online_copy(source: Path, copy: Path) -> None:
    reader = sqlite3.connect(source, timeout=LOCK_SECONDS)
    try:
        target = sqlite3.connect(copy)
        try:
            reader.backup(target)
            # One file, no -wal beside it: a copy moved elsewhere is complete on its own.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        reader.close()


def _copy_unless_deleted(source: str, target: str) -> None:
    """A file of a store, unless it is gone: a transaction that committed its row's deletion
    before the locks removes the file just after its commit, maybe while the copy runs."""
    try:
        shutil.copy2(source, target)
    except FileNotFoundError:
        pass


def _revision(database: Path) -> str | None:
    connection = sqlite3.connect(database)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None  # never migrated
    finally:
        connection.close()
    return str(row[0]) if row else None


# -- verify and restore -------------------------------------------------------------------------


def verify(source: Path) -> dict[str, Any]:
    """The manifest of the backup in ``source`` once every file checks out against it; a
    :class:`BackupError` saying what is wrong otherwise."""
    manifest_path = source / MANIFEST
    if not manifest_path.is_file():
        raise BackupError(f"{source} holds no {MANIFEST}: not a ParkHub backup, or a partial one")
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
        files: dict[str, str] = dict(manifest["files"])
        databases = {name: str(entry["file"]) for name, entry in dict(manifest["databases"]).items()}
        kind, version = manifest.get("kind"), manifest.get("format")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupError(f"{manifest_path} is not a backup manifest: {exc!r}") from exc
    if kind != "parkhub-embedded-backup" or version != FORMAT:
        raise BackupError(f"{manifest_path} is not a manifest of this version's embedded backups")
    absent = [name for name in DATABASES if databases.get(name) not in files]
    if absent:
        raise BackupError(f"the backup lacks the database(s) {', '.join(absent)}")
    present = set(_listed(source))
    problems = [f"missing: {path}" for path in sorted(set(files) - present)]
    problems += [f"not in the manifest: {path}" for path in sorted(present - set(files))]
    problems += [
        f"checksum differs: {path}" for path in sorted(set(files) & present) if _sha256(source / path) != files[path]
    ]
    if problems:
        raise BackupError("the backup does not match its manifest, nothing restored:\n  " + "\n  ".join(problems))
    return manifest


def restore(settings: Settings, source: Path, *, force: bool = False) -> Restored:
    """Put the backup in ``source`` where ``settings`` keep the platform's data, after checking
    all of it (:func:`verify`). Refuses when a database exists already unless ``force``; the
    platform must be stopped. Raises :class:`BackupError` with nothing written when it refuses."""
    manifest = verify(source)
    targets = sqlite_paths(settings)
    existing = [str(path) for path in targets.values() if path.exists()]
    if existing and not force:
        raise BackupError(
            "databases exist already, nothing restored (stop the platform and pass --force to "
            "replace them): " + ", ".join(existing)
        )
    stores = file_store_dirs(settings)
    for service, value in manifest.get("file_stores", {}).items():
        stores.setdefault(service, settings.var_dir / value)  # rows name files in that directory
    for name, path in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.restoring")
        shutil.copyfile(source / manifest["databases"][name]["file"], staged)
        # A -wal or -shm file beside the old database belongs to it: SQLite would replay it
        # into the restored one.
        for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            companion.unlink(missing_ok=True)
        os.replace(staged, path)
    copied = 0
    if (source / "keys").is_dir():
        if settings.keys_dir.exists():
            shutil.rmtree(settings.keys_dir)
        shutil.copytree(source / "keys", settings.keys_dir)
    for service, directory in stores.items():
        if (source / "files" / service).is_dir():
            shutil.copytree(source / "files" / service, directory, dirs_exist_ok=True)
            copied += sum(1 for p in (source / "files" / service).rglob("*") if p.is_file())
    return Restored(databases=targets, files=copied)


# -- helpers ------------------------------------------------------------------------------------


def _listed(root: Path) -> list[str]:
    """Every file under ``root`` but the manifest, as POSIX paths relative to it, sorted."""
    return sorted(
        path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file() and path.name != MANIFEST
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".manifest-")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
