"""Where uploaded files' bytes live: a small store with three methods, put, get and delete by key.
Each service has its own blob table (consulting's ``attachment_blobs``, finance's
``document_blobs``: a mapped class with ``key`` and ``data``) and its own setting.

- :class:`DatabaseStore` (``database``, the default): a row of the service's blob table in its
  own database, written in the caller's transaction, so a row and its file commit or roll back
  together and a backup of the database is a backup of the files (Zammad keeps its
  attachments in its database the same way).
- :class:`FileSystemStore` (``filesystem``): one file per key in a directory, written to a
  temporary file and renamed into place, so a reader never sees half a file. A file written in a
  transaction that then rolls back is removed again; a file deleted is removed once the
  transaction commits (never before: a rollback keeps the row that names it, and the file).

Keys are made here (:func:`new_key`), never from what a caller sent, and each file's row
records its store and key, so rows written under one setting stay readable after the setting
changes (a file store's directory must stay where it was). An S3 store would be a third class
with the same three methods (``put_object``, ``get_object``, ``delete_object`` under a prefix).

The store is chosen by a service's setting (``PARKHUB_CONSULTING_FILES``,
``PARKHUB_FINANCE_FILES``): ``database``, or a directory (:func:`configured_store`). Nothing
here commits.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import delete, event
from sqlalchemy.orm import Session, SessionTransaction

DATABASE = "database"
FILESYSTEM = "filesystem"
_KEY = re.compile(r"[0-9a-f]{32}")
_WRITTEN = "parkhub_files_written"
_DELETED = "parkhub_files_deleted"
_LISTENING = "parkhub_files_listening"


class StoredFileMissing(LookupError):
    """The store holds nothing under a key a file's row names."""


class FileStore(Protocol):
    """Bytes by key. ``put`` and ``delete`` take the session of the unit of work whose
    transaction they belong to; ``get`` any session of the service's database."""

    name: str

    def put(self, session: Session, key: str, data: bytes) -> None: ...

    def get(self, session: Session, key: str) -> bytes: ...

    def delete(self, session: Session, key: str) -> None: ...


def new_key() -> str:
    """A fresh key: 32 hex digits, nothing of the file's name or the caller's input."""
    return uuid.uuid4().hex


def _checked(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValueError(f"not a key of a file store: {key!r}")
    return key


class DatabaseStore:
    """The bytes in the rows of ``blob`` (a mapped class with ``key`` and ``data``), in the
    caller's transaction. A service may bind its table in a subclass (``blob = …``) or pass it."""

    name = DATABASE
    blob: Any = None

    def __init__(self, blob: Any = None) -> None:
        if blob is not None:
            self.blob = blob
        if self.blob is None:
            raise TypeError("a database store needs its blob table")

    def put(self, session: Session, key: str, data: bytes) -> None:
        session.add(self.blob(key=_checked(key), data=data))

    def get(self, session: Session, key: str) -> bytes:
        row = session.get(self.blob, _checked(key))
        if row is None:
            raise StoredFileMissing(key)
        return bytes(row.data)

    def delete(self, session: Session, key: str) -> None:
        session.execute(delete(self.blob).where(self.blob.key == _checked(key)))


class FileSystemStore:
    """One file per key under ``directory`` (``ab/abcdef…``: 256 sub-directories at most)."""

    name = FILESYSTEM

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, key: str) -> Path:
        key = _checked(key)
        return self.directory / key[:2] / key

    def put(self, session: Session, key: str, data: bytes) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        _forget_on_rollback(session, target)

    def get(self, session: Session, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise StoredFileMissing(key) from None

    def delete(self, session: Session, key: str) -> None:
        """Remove the file once the transaction commits (the row that names it goes in the same
        commit); a transaction, or a savepoint, that rolls back keeps it."""
        _delete_on_commit(session, self.path(key))


def _listen(session: Session) -> None:
    """The session's listeners, once per session (one per unit of work); they live as long as it
    and are never removed while SQLAlchemy runs them."""
    if not session.info.get(_LISTENING):
        session.info[_LISTENING] = True
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_soft_rollback", _rolled_back)


def _forget_on_rollback(session: Session, path: Path) -> None:
    """Remove ``path`` if the transaction it was written in rolls back (no row will name it);
    keep it once the transaction commits. A savepoint's rollback keeps it (its own transaction
    goes on, and so may the file's)."""
    _listen(session)
    session.info.setdefault(_WRITTEN, []).append(path)


def _delete_on_commit(session: Session, path: Path) -> None:
    """Remove ``path`` when the transaction commits; forget it when the transaction, or the
    savepoint the delete was asked in, rolls back."""
    _listen(session)
    current = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_DELETED, []).append((path, current))


def _committed(session: Session) -> None:
    session.info.pop(_WRITTEN, None)
    for path, _ in session.info.pop(_DELETED, None) or ():
        path.unlink(missing_ok=True)


def _within(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False


def _rolled_back(session: Session, previous: SessionTransaction) -> None:
    deleted = session.info.get(_DELETED) or []
    session.info[_DELETED] = [(path, asked) for path, asked in deleted if not _within(asked, previous)]
    if previous.parent is not None:
        return  # a savepoint: the files written in it may still be committed with its transaction
    for stale in session.info.pop(_WRITTEN, None) or ():
        stale.unlink(missing_ok=True)


def configured_store(value: str, var_dir: Path, blob: Any) -> FileStore:
    """The store new files go to by a service's setting ``value``: ``database`` (rows of ``blob``),
    or a directory (relative to ``var_dir``)."""
    if value == DATABASE:
        return DatabaseStore(blob)
    return FileSystemStore(var_dir / value)


def store_named(storage: str, value: str, var_dir: Path, blob: Any) -> FileStore:
    """The store a file's row names (``storage``): its bytes are read where they were put, whatever
    the setting ``value`` says now (a directory must stay where it was)."""
    if storage == DATABASE:
        return DatabaseStore(blob)
    if storage == FILESYSTEM:
        configured = configured_store(value, var_dir, blob)
        if isinstance(configured, FileSystemStore):
            return configured
        raise StoredFileMissing(f"files kept in a directory, but the setting {value!r} is no directory")
    raise ValueError(f"unknown file store {storage!r}")
