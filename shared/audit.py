"""Tamper-evident audit trails: each row of an audit table is sealed into a hash chain as it commits.

An audit table (booking's ``transitions``, finance's ``decisions`` …) mixes in :class:`Chained`,
which gives it three columns: ``chain_seq`` (1, 2, 3 … in the order rows were sealed), ``prev_hash``
(the previous row's ``row_hash``; :data:`GENESIS` for the first) and ``row_hash`` =
``sha256(prev_hash + canonical JSON of the row's business columns)``. Each database keeps the head
of each of its chains in ``audit_chain_heads`` (one row per audit table: last seq, last hash).

Handlers insert audit rows as before (ORM, anywhere in their transaction, and may read them back).
A session event notes which audit tables a flush inserted into; right after the session commits,
:func:`seal_on` locks each such chain's head row, hashes the committed unsealed rows in
insertion order, writes their chain columns and moves the head, in one short transaction of its
own (why not inside the committing one: see there). Rows are append-only in the database itself
(triggers made by the migrations, ``migrations/audit_chain_v1.py``): the only update a row ever
takes is its seal. :func:`verify` walks every chain and names the first broken row.

The kernel stays framework-free (no Flask): the CLI (``parkhub audit verify``) and tests call it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

GENESIS = "0" * 64
"""The ``prev_hash`` of a chain's first row."""
HEADS = "audit_chain_heads"
"""The kernel table holding each chain's head, in every database that has an audit trail."""
CHAIN_COLUMNS = ("chain_seq", "prev_hash", "row_hash")
"""The columns :class:`Chained` adds; every other column of the table is hashed."""

_PENDING = "parkhub.audit.pending"
"""``Session.info`` key: the audit tables this transaction inserted rows into."""
_CONNECTION = "parkhub.audit.connection"
"""``Session.info`` key: the committing transaction's connection, which the seal reuses."""


class Chained:
    """Mix into an audit table's model (before ``Base``): its rows are sealed into a hash chain.

    The three columns stay NULL until the row is sealed, right after the commit that inserted it
    (:func:`seal_on`).
    ``chain_seq`` is unique (a unique index, so SQLite adds the column without rebuilding the
    table, and its triggers survive).
    """

    chain_seq: Mapped[int | None] = mapped_column(Integer, unique=True, index=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))


def define_chain_heads(metadata: MetaData) -> Table:
    """Add ``audit_chain_heads`` to a database's ``metadata`` (its migrations create it)."""
    return Table(
        HEADS,
        metadata,
        Column("table_name", String(60), primary_key=True),
        Column("seq", Integer, nullable=False),
        Column("hash", String(64), nullable=False),
    )


_heads = define_chain_heads(MetaData())  # for statements: only the names matter


# --- canonical content -----------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON-ready value that is the same whichever database (and driver) the row came from."""
    if isinstance(value, datetime):
        # SQLite gives naive UTC (timestamps are always written as UTC), PostgreSQL aware values.
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        # 12.5 and 12.50 are the same amount; SQLite and PostgreSQL may pad them differently.
        return format(value.normalize(), "f")
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def canonical(row: Mapping[Any, Any]) -> str:
    """The row's business columns (all but :data:`CHAIN_COLUMNS`) as canonical JSON.

    Keys sorted at every level, no whitespace, UTF-8 kept as is; datetimes as UTC ISO with
    microseconds, Decimals as plain strings: the same text on SQLite and PostgreSQL. A column that
    is NULL is left out (inside a JSON value None stays null): so a column a later migration adds
    to an audit table, nullable and without a default, leaves every older row's hash as it was. A
    new column must be added that way; one with a default would change history, and ``verify``
    would rightly call every older row broken.
    """
    business = {name: _plain(value) for name, value in row.items() if name not in CHAIN_COLUMNS and value is not None}
    return json.dumps(business, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str, row: Mapping[Any, Any]) -> str:
    """``sha256(prev_hash + canonical(row))`` in hex: the link that makes the trail tamper-evident."""
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


# --- sealing right after commit --------------------------------------------------------------

SEAL_GRACE = timedelta(seconds=60)
"""How long a committed row may stay unsealed before :func:`verify` calls it broken (its seal runs
milliseconds after its commit; a process that died in between leaves it to the next seal)."""

SEAL_OPTION = "parkhub_audit_seal"
"""The execution option that marks the seal's connection (what counts a request's own transactions
and statements, e.g. tests/booking/test_request_cost.py, can tell the seal's apart)."""

_log = logging.getLogger("parkhub.audit")


@event.listens_for(Session, "after_flush")
def _note_inserted(session: Session, _flush_context: Any) -> None:
    # session.new still holds what this flush inserted: note which audit tables took rows.
    tables = {inspect(obj).mapper.local_table for obj in session.new if isinstance(obj, Chained)}
    if tables:
        session.info.setdefault(_PENDING, set()).update(tables)


@event.listens_for(Session, "before_commit")
def _keep_connection(session: Session) -> None:
    # The seal runs on the committing transaction's own connection, still checked out right after
    # the commit: a request never holds two connections, nor checks one out twice. The commit's
    # own flush comes after this hook: flush first, so its audit rows are noted too.
    if session.in_nested_transaction():
        return
    session.flush()
    if _PENDING in session.info:
        session.info[_CONNECTION] = session.connection()


@event.listens_for(Session, "after_commit")
def _seal_after_commit(session: Session) -> None:
    # Every committing session seals (units of work, seeds, scripts alike); a savepoint's release
    # is not the commit.
    if session.in_nested_transaction():
        return
    tables = session.info.pop(_PENDING, None)
    connection = session.info.pop(_CONNECTION, None)
    if tables and connection is not None:
        seal_on(connection, tables)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    # A rolled-back transaction's rows are gone: nothing of it is left to seal.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_CONNECTION, None)


def seal_pending(engine: Engine, tables: Iterable[Table]) -> int:
    """Seal the committed, unsealed rows of ``tables`` on a connection of ``engine`` (the CLI's
    ``parkhub audit seal``: rows a process that died between commit and seal left)."""
    with engine.connect() as connection:
        return seal_on(connection, tables)


def seal_on(connection: Connection, tables: Iterable[Table]) -> int:
    """Seal every committed, unsealed row of ``tables`` into its chain; returns how many.

    Runs right after the commit that inserted the rows, in a short transaction of its own on the
    same connection, and sweeps every unsealed row of the table (its own and any a crashed process
    left), in key order. Why not inside the business transaction: its head lock would be held
    until that commit, so every writer of a trail would queue at its end while still holding all
    its own row locks (the quota counter's, a reservation's): the head would stretch every hot
    lock into one global queue (measured: tests/booking/test_quota_concurrency_postgres.py, 3.8 of
    8 sessions waiting on the counter instead of 0.4). Meanwhile a committed row is already
    immutable: the triggers let an unsealed row take its seal and nothing else.

    Locking: this transaction locks each chain's head row (``SELECT … FOR UPDATE``; on SQLite,
    ``BEGIN IMMEDIATE`` takes the writer lock), chains in table-name order, then updates only
    unsealed committed rows, which no business transaction locks (they only insert audit rows,
    and their uncommitted rows are invisible here). So a sealer waits only for another sealer,
    which takes the heads in the same order: no cycle, no deadlock. A failure is logged, never
    raised: the business change is committed, and the next seal of that trail picks the rows up.
    """
    sqlite_ = connection.dialect.name == "sqlite"
    # shared.db's SQLite engines begin IMMEDIATE with the option; the mark names the transaction.
    connection.execution_options(**{SEAL_OPTION: True}, **({"sqlite_immediate": True} if sqlite_ else {}))
    try:
        with connection.begin():
            raw = connection.connection.dbapi_connection
            if sqlite_ and raw is not None and not raw.in_transaction:  # an engine not tuned by shared.db
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            return sum(_seal_table(connection, table) for table in sorted(tables, key=lambda t: t.name))
    except SQLAlchemyError:
        _log.warning("audit seal deferred to the next write", exc_info=True)
        return 0


def _seal_table(connection: Connection, table: Table) -> int:
    seq, head = _lock_head(connection, table.name)
    (key,) = table.primary_key.columns
    unsealed = connection.execute(select(table).where(table.c.chain_seq.is_(None)).order_by(*_order(table)))
    sealed = []
    for row in unsealed.mappings():
        seq += 1
        digest = row_hash(head, row)
        sealed.append({"_key": row[key.name], "_seq": seq, "_prev": head, "_hash": digest})
        head = digest
    if not sealed:
        return 0
    connection.execute(
        update(table)
        .where(key == bindparam("_key"))
        .values(chain_seq=bindparam("_seq"), prev_hash=bindparam("_prev"), row_hash=bindparam("_hash")),
        sealed,
    )
    connection.execute(update(_heads).where(_heads.c.table_name == table.name).values(seq=seq, hash=head))
    return len(sealed)


def _order(table: Table) -> list[Any]:
    # Autoincremented keys are the insertion order; other keys (finance's decisions: UUIDs) go by
    # their time, then key.
    (key,) = table.primary_key.columns
    if key.type.python_type is int:
        return [key]
    return [*_time_columns(table)[:1], key]


def _time_columns(table: Table) -> list[Column[Any]]:
    """The table's timestamp columns (``UtcDateTime`` is a decorated ``DateTime``)."""
    return [c for c in table.columns if isinstance(getattr(c.type, "impl", c.type), DateTime)]


def _lock_head(connection: Connection, table_name: str) -> tuple[int, str]:
    locked = select(_heads.c.seq, _heads.c.hash).where(_heads.c.table_name == table_name).with_for_update()
    row = connection.execute(locked).first()
    if row is None:  # the migrations make every head; a schema built otherwise starts its chain
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(insert(_heads).values(table_name=table_name, seq=0, hash=GENESIS).on_conflict_do_nothing())
        row = connection.execute(locked).one()
    return int(row.seq), str(row.hash)


# --- verification ----------------------------------------------------------------------------

PROBLEMS = {
    "hash": "hash does not match its content",
    "link": "prev_hash does not match the previous row's hash",
    "missing": "row missing (deleted, or the chain was renumbered)",
    "unsealed": "row was never sealed into the chain",
    "head": "the chain's head does not match its last row",
    "no-head": "the chain has no head in audit_chain_heads",
}
"""What :class:`Break` can say is wrong, by code."""


@dataclass(frozen=True)
class Break:
    """The first broken row of a chain: where (``chain_seq``, ``id``; None when unknown) and what."""

    chain_seq: int | None
    id: Any
    problem: str

    def describe(self) -> str:
        where = f"chain_seq {self.chain_seq}" if self.chain_seq is not None else "an unsealed row"
        row = f" (id {self.id})" if self.id is not None else ""
        return f"{where}{row}: {PROBLEMS[self.problem]}"


@dataclass(frozen=True)
class ChainReport:
    """One chain's verification: how many rows it holds and its first break (None: intact)."""

    database: str
    table: str
    rows: int
    broken: Break | None

    @property
    def intact(self) -> bool:
        return self.broken is None

    def line(self) -> str:
        """``booking.transitions: 1234 rows, chain intact`` or ``… BROKEN at chain_seq 17 (id 17): …``."""
        name = f"{self.database}.{self.table}: {self.rows} rows"
        return f"{name}, chain intact" if self.broken is None else f"{name}, BROKEN at {self.broken.describe()}"


def chained_tables(metadata: MetaData) -> list[Table]:
    """The audit tables of a database's ``metadata`` (those with the chain columns), by name."""
    return sorted(
        (t for t in metadata.tables.values() if all(c in t.columns for c in CHAIN_COLUMNS)),
        key=lambda t: t.name,
    )


def verify(engine: Engine, database: str, tables: Iterable[Table]) -> list[ChainReport]:
    """Walk each audit table's chain in ``chain_seq`` order and report its first break.

    Recomputes every row's hash from its content, checks each ``prev_hash`` against the previous
    row's hash, that the sequence runs 1, 2, 3 … without a gap, that the head matches the last row,
    and that no row stayed unsealed longer than :data:`SEAL_GRACE` after its time (such a row went
    round the application, or its process died between commit and seal and no write to the trail
    has come since: ``parkhub audit seal`` seals it). Reads one snapshot (REPEATABLE READ on
    PostgreSQL, one read transaction on SQLite) while writers go on; streams a long trail.
    """
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as connection:
        transaction = connection.begin()
        raw = connection.connection.dbapi_connection
        if engine.dialect.name == "sqlite" and raw is not None and not raw.in_transaction:
            # pysqlite begins no transaction for reads (an engine not tuned by shared.db): one
            # explicit BEGIN makes all the reads one snapshot.
            connection.exec_driver_sql("BEGIN")
        try:
            return [_verify_chain(connection, database, table) for table in tables]
        finally:
            transaction.rollback()


def _verify_chain(connection: Connection, database: str, table: Table) -> ChainReport:
    (key_column,) = table.primary_key.columns
    rows = int(connection.execute(select(func.count()).select_from(table)).scalar_one())
    head = connection.execute(select(_heads.c.seq, _heads.c.hash).where(_heads.c.table_name == table.name)).first()
    broken, last_seq, last_hash = _walk(connection, table, key_column)
    if broken is None and head is None and last_seq:
        broken = Break(None, None, "no-head")
    if broken is None and head is not None and (head.seq, head.hash) != (last_seq, last_hash):
        # A head ahead of the last row: rows at the end were deleted.
        broken = Break(last_seq + 1, None, "missing") if head.seq > last_seq else Break(last_seq, None, "head")
    unsealed: Any = table.c.chain_seq.is_(None)
    times = _time_columns(table)
    if times:  # younger rows are between their commit and their seal
        unsealed = unsealed & (times[0] < datetime.now(UTC) - SEAL_GRACE)
    if broken is None:
        stale = connection.execute(select(key_column).where(unsealed).order_by(*_order(table)).limit(1)).first()
        if stale is not None:
            broken = Break(None, stale[0], "unsealed")
    return ChainReport(database, table.name, rows, broken)


def _walk(connection: Connection, table: Table, key_column: Any) -> tuple[Break | None, int, str]:
    """The first break among the sealed rows (None: none), and the last good row's seq and hash."""
    expected_prev, expected_seq = GENESIS, 1
    statement = select(table).where(table.c.chain_seq.is_not(None)).order_by(table.c.chain_seq)
    result = connection.execution_options(yield_per=1000).execute(statement)
    try:  # a break found early leaves the rest unread: the server-side cursor is closed here
        for row in result.mappings():
            key = row[key_column.name]
            if row["chain_seq"] != expected_seq:
                return Break(expected_seq, None, "missing"), expected_seq - 1, expected_prev
            if row["prev_hash"] != expected_prev:
                return Break(expected_seq, key, "link"), expected_seq - 1, expected_prev
            if row_hash(expected_prev, row) != row["row_hash"]:
                return Break(expected_seq, key, "hash"), expected_seq - 1, expected_prev
            expected_prev, expected_seq = row["row_hash"], expected_seq + 1
    finally:
        result.close()
    return None, expected_seq - 1, expected_prev
