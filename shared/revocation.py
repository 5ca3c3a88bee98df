"""Access-token revocation: every service's ``access_revocations`` table and its snapshot.

An access token is a signed JWT each service verifies itself (:mod:`shared.http.auth`); without
this it would stay good until its ``exp`` after its user is deactivated or signs out. The gateway
publishes ``identity.access.revoked`` (:data:`~shared.events.identity.ACCESS_REVOKED`) in the unit
of work of the change, and writes the same row into its own table there (it has no inbox); every
other service's kernel consumer (:func:`revocation_handlers`) keeps its table from the events.

A row is one of two kinds:

- ``subject``: ``key`` is a token's ``sub``; tokens issued (``iat``) before ``not_before`` are refused;
- ``session``: ``key`` is a sign-in (a refresh-token family, the token's ``sid``); all its tokens are refused.

``expires_at`` is when the last token concerned expires: past it the row decides nothing and
housekeeping may drop it. Verification reads an in-process :class:`RevocationList`, reloaded at
most every ``PARKHUB_REVOCATION_REFRESH_SECONDS``: a revocation holds everywhere within event
delivery + that period, at no query per request (docs/identity.md, "Revocation").
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Column, DateTime, MetaData, String, Table, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from shared.db import Database, UnitOfWork
from shared.events import Event
from shared.events.identity import ACCESS_REVOKED

__all__ = [
    "RevocationList",
    "define_revocation_table",
    "purge_expired_revocations",
    "revocation_handlers",
    "revoke_access",
]

TABLE_NAME = "access_revocations"
SUBJECT = "subject"
SESSION = "session"
log = structlog.get_logger("parkhub.auth")


def define_revocation_table(metadata: MetaData) -> Table:
    """Add ``access_revocations`` to ``metadata`` and return it (each database's migrations create it)."""
    return Table(
        TABLE_NAME,
        metadata,
        Column("kind", String(10), primary_key=True),
        Column("key", String(120), primary_key=True),
        Column("not_before", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
        Column("reason", String(40), nullable=False),
    )


_READER = define_revocation_table(MetaData())
"""The table as :class:`RevocationList` reads it from any service's database."""


def _wall_clock() -> datetime:
    """Now, by the wall clock the tokens' ``iat`` is stamped with (never the park's test clock)."""
    return datetime.fromtimestamp(time.time(), UTC)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _keep(uow: UnitOfWork, table: Table, row: Mapping[str, Any]) -> None:
    """Insert ``row``, or move an existing one forward (the later ``not_before`` and
    ``expires_at`` win, and the later cut-off's reason): one statement, so two writers of the
    same key never collide, and an event applied twice or out of order leaves the same row."""
    dialect = uow.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(**row)
    excluded = statement.excluded
    later = {name: _greatest(dialect, table.c[name], excluded[name]) for name in ("not_before", "expires_at")}
    later["reason"] = case((excluded.not_before >= table.c.not_before, excluded.reason), else_=table.c.reason)
    uow.session.execute(statement.on_conflict_do_update(index_elements=["kind", "key"], set_=later))


def _greatest(dialect: str, current: Any, new: Any) -> Any:
    # SQLite's two-argument max() is its scalar maximum; PostgreSQL spells it greatest().
    return func.greatest(current, new) if dialect == "postgresql" else func.max(current, new)


def revoke_access(
    uow: UnitOfWork,
    table: Table,
    *,
    subject: str,
    reason: str,
    lifetime_seconds: int,
    session_id: str | None = None,
) -> None:
    """The gateway's side: refuse ``subject``'s access tokens issued until now (or, with
    ``session_id``, every token of that sign-in) in its own ``table`` and publish
    ``identity.access.revoked`` for every service, both in ``uow``; the caller commits.
    ``lifetime_seconds`` is the access tokens' lifetime: how long the row matters."""
    not_before = _wall_clock()
    expires_at = not_before + timedelta(seconds=lifetime_seconds)
    kind, key = (SUBJECT, subject) if session_id is None else (SESSION, session_id)
    _keep(uow, table, {"kind": kind, "key": key, "not_before": not_before, "expires_at": expires_at, "reason": reason})
    uow.publish(
        ACCESS_REVOKED.type,
        {
            "subject": subject,
            "session_id": session_id,
            "not_before": not_before.isoformat(),
            "expires_at": expires_at.isoformat(),
            "reason": reason,
        },
        subject=subject,
    )


def revocation_handlers(table: Table) -> dict[str, Callable[..., None]]:
    """The kernel consumer that keeps ``table`` from ``identity.access.revoked`` (every service's
    ``HANDLERS`` include it, as they include the directory's)."""

    def on_access_revoked(event: Event, *, uow: UnitOfWork) -> None:
        data = event.data
        session_id = data.get("session_id")
        kind, key = (SUBJECT, data["subject"]) if not session_id else (SESSION, session_id)
        row = {
            "kind": kind,
            "key": key,
            "not_before": _as_utc(datetime.fromisoformat(data["not_before"])),
            "expires_at": _as_utc(datetime.fromisoformat(data["expires_at"])),
            "reason": data["reason"],
        }
        _keep(uow, table, row)

    return {ACCESS_REVOKED.type: on_access_revoked}


def purge_expired_revocations(table: Table, *, uow: UnitOfWork) -> int:
    """Housekeeping: drop the rows no token they concern can outlive. The caller commits."""
    result = uow.session.execute(delete(table).where(table.c.expires_at < _wall_clock()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


class RevocationList:
    """The unexpired rows of a service's ``access_revocations``, held in memory.

    :meth:`refuses` is called for every verified token; it reloads from ``database`` at most every
    ``refresh_seconds`` (0: on every call, for tests), so the cost of a request is a dictionary
    look-up. A database that cannot be read keeps the last snapshot (and says so in the log): a
    revocation missed for a while is better than refusing every caller while the database is away.
    """

    def __init__(self, database: Database, *, refresh_seconds: float) -> None:
        self.database = database
        self.refresh_seconds = refresh_seconds
        self._subjects: dict[str, int] = {}
        self._sessions: frozenset[str] = frozenset()
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def refuses(self, claims: Mapping[str, Any]) -> bool:
        """Whether a token with these (verified) claims is revoked."""
        self._refresh()
        sid = claims.get("sid")
        if isinstance(sid, str) and sid in self._sessions:
            return True
        cut_off = self._subjects.get(str(claims.get("sub", "")))
        if cut_off is None:
            return False
        issued = claims.get("iat")
        # iat is whole seconds: a token of the cut-off's own second may predate it, so it is
        # refused too (a client refreshing in that second is refused once and refreshes again).
        return not isinstance(issued, int | float) or issued < cut_off

    def _refresh(self) -> None:
        now = time.monotonic()
        if self._loaded_at is not None and now - self._loaded_at < self.refresh_seconds:
            return
        # One thread reloads; the others go on with the snapshot they hold rather than queue on
        # the database (only the very first load is waited for: there is no snapshot before it).
        if not self._lock.acquire(blocking=self._loaded_at is None):
            return
        try:
            if self._loaded_at is not None and time.monotonic() - self._loaded_at < self.refresh_seconds:
                return  # another thread reloaded while this one was deciding
            self._loaded_at = now
            try:
                with self.database.reading() as session:
                    rows = session.execute(
                        select(_READER.c.kind, _READER.c.key, _READER.c.not_before).where(
                            _READER.c.expires_at > _wall_clock()
                        )
                    ).all()
            except Exception as exc:  # noqa: BLE001 - keep the last snapshot; verification goes on
                log.warning("revocations.unreadable", service=self.database.name, error=type(exc).__name__)
                return
            self._subjects = {
                row.key: math.ceil(_as_utc(row.not_before).timestamp()) for row in rows if row.kind == SUBJECT
            }
            self._sessions = frozenset(row.key for row in rows if row.kind == SESSION)
        finally:
            self._lock.release()
