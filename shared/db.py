"""One engine per service database, and the unit of work: the only transaction boundary.

A command handler receives a :class:`UnitOfWork`, changes rows through ``uow.session`` and records
integration events with ``uow.publish`` (they land in the same transaction, in the outbox); it
never commits. Its caller owns the transaction and calls ``uow.commit()``: a view (through
``shared.http.views.execute``), the inbox (the handler's changes and the inbox record together)
or the job runner (``shared.service.scheduled``); docs/SERVICE.md, "The commit convention".
Leaving the ``with`` block without a commit rolls everything back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from shared import audit  # noqa: F401  (installs the audit trail's seal on every session's commit)
from shared.bus.tables import MessagingTables
from shared.clock import as_utc

CONNECT_TIMEOUT = 3
"""Seconds a PostgreSQL connection attempt may take (libpq ``connect_timeout``; its minimum is 2)."""
POOL_TIMEOUT = 10
"""Seconds a request waits for a pooled PostgreSQL connection before it is refused (503)."""
PING_AFTER_IDLE = 2.0
"""Seconds a pooled PostgreSQL connection may have rested before its next checkout asks the server
whether it is still there (``SELECT 1``). A connection back in use within that time is not pinged:
under load connections are taken again within milliseconds, and a ping on every checkout was a
round trip of every request (docs/PERFORMANCE.md, "Profiles"). What the ping protects against, a
server restarted or a connection cut while the pool rested, happens while it rests; one cut in the
middle of traffic fails the request that finds it (a 503, as any database outage) and SQLAlchemy
then recycles every connection older than the cut, so the next checkouts connect afresh."""
_RESTED_SINCE = "parkhub_rested_since"


class Database:
    """A service's database: engine, session factory and the messaging tables' metadata.

    SQLite files get WAL, a busy timeout and ``BEGIN IMMEDIATE`` for writing units of work,
    so writers are serialised by the database instead of failing half-way.
    """

    def __init__(self, name: str, url: str, messaging: MessagingTables, *, echo: bool = False) -> None:
        self.name = name
        self.url = url
        self.messaging = messaging
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=5, max_overflow=10, pool_timeout=POOL_TIMEOUT)
            if "connect_timeout" not in parsed.query:
                # A database that is away must fail a request in seconds (a 503), not hang it:
                # libpq otherwise waits for the operating system's TCP timeout (minutes).
                kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT}
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _tune_sqlite(self.engine)
            reader = self.engine
        else:
            _ping_rested_connections(self.engine)
            # PostgreSQL's READ COMMITTED gives every statement its own snapshot inside a
            # transaction too, so a read-only session sees the same rows outside one; without
            # one it saves the BEGIN and the ROLLBACK, two of a plain read's round trips.
            reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(reader, expire_on_commit=False)
        event.listen(self._read_sessions, "before_flush", _refuse_writes)
        self._on_commit: list[Callable[[], None]] = []

    def session(self) -> Session:
        """A plain session for reads; the caller closes it."""
        return self._sessions()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A short read-only session, rolled back at the end. On PostgreSQL it runs outside a
        transaction (autocommit): each statement reads committed rows, as in the READ COMMITTED
        transaction it replaced; it must write nothing (a flush is refused: nothing would undo it)."""
        session = self._read_sessions()
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def unit_of_work(self, *, quiet: bool = False, **context: Any) -> UnitOfWork:
        """A new unit of work; ``quiet`` ones call no :meth:`on_commit` callbacks (the bus's own
        bookkeeping, which must not wake the bus it belongs to)."""
        return UnitOfWork(self, quiet=quiet, **context)

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every unit of work that committed (wakes the relay)."""
        self._on_commit.append(callback)

    def _committed(self) -> None:
        for callback in self._on_commit:
            callback()

    def dispose(self) -> None:
        self.engine.dispose()


def _refuse_writes(session: Session, *_args: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a reading session writes nothing: use a unit of work")


def _ping_rested_connections(engine: Engine) -> None:
    """Ping a pooled connection at checkout only when it rested :data:`PING_AFTER_IDLE` seconds
    or more (SQLAlchemy's ``pool_pre_ping`` pings on every checkout). A failed ping is a
    ``DisconnectionError``: the pool drops that connection and checks out a fresh one."""

    @event.listens_for(engine.pool, "checkin")
    def _rest(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RESTED_SINCE] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        rested_since = record.info.pop(_RESTED_SINCE, None)
        if rested_since is None or time.monotonic() - rested_since < PING_AFTER_IDLE:
            return  # a new connection, or one in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise sa_exc.DisconnectionError(f"the pooled connection is gone: {exc}") from exc


def _tune_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling starts transactions lazily and cannot BEGIN IMMEDIATE;
    # we switch it off and emit BEGIN ourselves (the recipe in SQLAlchemy's SQLite dialect docs).
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class UnitOfWork:
    """One transaction on one service database, with its outbox.

    ``context`` carries the ``correlationid`` (the request id or the causing event's correlation)
    and ``causationid`` (the event being handled) that published events inherit.
    """

    def __init__(self, database: Database, *, quiet: bool = False, **context: Any) -> None:
        self.database = database
        self.quiet = quiet
        self.context: dict[str, Any] = dict(context)
        self.session: Session
        self._committed = False

    def __enter__(self) -> UnitOfWork:
        self.session = self.database._sessions()
        if self.database.is_sqlite:
            # Writers take the lock up front: two writers never both read, then both fail to write.
            self.session.connection(execution_options={"sqlite_immediate": True})
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if not self._committed:
                self.session.rollback()
        finally:
            self.session.close()
        if self._committed and not self.quiet:
            self.database._committed()

    def commit(self) -> None:
        """Commit; right after, the audit rows this transaction inserted are sealed into their
        hash chains in a short transaction of their own on the same connection (``shared.audit``:
        session events, so any session's commit seals)."""
        self.session.commit()
        self._committed = True

    @contextmanager
    def correlated(self, correlation_id: str | None) -> Iterator[None]:
        """Within the block, publish under ``correlation_id`` (a saga's, kept on the row the saga
        is about), whoever's request or event this unit of work serves; None changes nothing."""
        saved = self.context.get("correlationid")
        if correlation_id:
            self.context["correlationid"] = correlation_id
        try:
            yield
        finally:
            self.context["correlationid"] = saved

    def publish(
        self,
        type: str,
        data: Mapping[str, Any],
        *,
        subject: str | None = None,
        orgid: str | None = None,
        version: int | None = None,
    ) -> str:
        """Validate ``data`` against the contract of ``type`` (its newest version unless
        ``version`` is given) and add it to the outbox.

        Returns the event id. Raises :class:`shared.events.ContractViolation` when the payload
        breaks the contract: the event is refused at publish, and the transaction must not commit.
        """
        from shared.bus.outbox import enqueue  # the outbox needs the session; import late

        return enqueue(self, type, data, subject=subject, orgid=orgid, version=version)


def metadata() -> MetaData:
    """A metadata with stable constraint names, so migrations can drop what they created."""
    return MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


_registry_lock = threading.Lock()
_databases: dict[str, Database] = {}


def database_for(name: str, url: str, messaging: MessagingTables) -> Database:
    """The process-wide :class:`Database` for ``url`` (one engine and pool per URL)."""
    with _registry_lock:
        if url not in _databases:
            _databases[url] = Database(name, url, messaging)
        return _databases[url]


def forget_databases() -> None:
    """Dispose every engine made by :func:`database_for` (tests, shutdown)."""
    with _registry_lock:
        for db in _databases.values():
            db.dispose()
        _databases.clear()


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp with time zone that is always written as UTC and read back aware.

    SQLite keeps no offset: an aware value in another zone would be stored as its wall-clock
    time. Converting on the way in makes every stored instant comparable on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return as_utc(value) if value is not None else None
