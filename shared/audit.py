"""Tamper-evident audit trails: each row of an audit table is sealed into a hash chain at commit.

An audit table (booking's ``transitions``, finance's ``decisions`` …) mixes in :class:`Chained`,
which gives it three columns: ``chain_seq`` (1, 2, 3 … in the order rows were sealed), ``prev_hash``
(the previous row's ``row_hash``; :data:`GENESIS` for the first) and ``row_hash`` =
``sha256(prev_hash + canonical JSON of the row's business columns)``. Each database keeps the head
of each of its chains in ``audit_chain_heads`` (one row per audit table: last seq, last hash).

Handlers insert audit rows as before (ORM, anywhere in their transaction, and may read them back).
A session event notes every audit row a flush inserts; when the session commits, :func:`seal`
locks each chain's head row, hashes the new rows in insertion order, writes their chain columns and
moves the head, all inside the committing transaction. Rows are append-only in the database itself
(triggers made by the migrations, ``migrations/audit_chain_v1.py``): the only update a row ever
takes is its seal. :func:`verify` walks every chain and names the first broken row.

The kernel stays framework-free (no Flask): the CLI (``parkhub audit verify``) and tests call it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
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
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

GENESIS = "0" * 64
"""The ``prev_hash`` of a chain's first row."""
HEADS = "audit_chain_heads"
"""The kernel table holding each chain's head, in every database that has an audit trail."""
CHAIN_COLUMNS = ("chain_seq", "prev_hash", "row_hash")
"""The columns :class:`Chained` adds; every other column of the table is hashed."""

_PENDING = "parkhub.audit.pending"
"""``Session.info`` key: the audit rows this transaction inserted, per table, in insertion order."""


class Chained:
    """Mix into an audit table's model (before ``Base``): its rows are sealed into a hash chain.

    The three columns stay NULL until the commit that inserted the row seals it (:func:`seal`).
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
    microseconds, Decimals as plain strings, None as null: the same text on SQLite and PostgreSQL.
    """
    business = {name: _plain(value) for name, value in row.items() if name not in CHAIN_COLUMNS}
    return json.dumps(business, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def row_hash(prev_hash: str, row: Mapping[Any, Any]) -> str:
    """``sha256(prev_hash + canonical(row))`` in hex: the link that makes the trail tamper-evident."""
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


# --- sealing at commit -----------------------------------------------------------------------


@event.listens_for(Session, "after_flush")
def _note_inserted(session: Session, _flush_context: Any) -> None:
    # session.new still holds what this flush inserted; their primary keys are known by now.
    pending: dict[Table, dict[Any, Any]] = session.info.setdefault(_PENDING, {})
    batch = [obj for obj in session.new if isinstance(obj, Chained)]
    for obj in sorted(batch, key=_insertion_key):
        mapper = inspect(obj).mapper
        (key,) = mapper.primary_key_from_instance(obj)
        pending.setdefault(mapper.local_table, {})[key] = obj


def _insertion_key(obj: Any) -> tuple[str, Any]:
    # Within one flush, autoincremented ids give the insertion order; other keys sort stably.
    (key,) = inspect(obj).mapper.primary_key_from_instance(obj)
    return (type(obj).__name__, key if isinstance(key, int) else str(key))


@event.listens_for(Session, "before_commit")
def _seal_on_commit(session: Session) -> None:
    # Every committing session seals what it inserted (units of work, seeds, scripts alike), but
    # only the outermost transaction: a savepoint's release is not the commit.
    if session.in_nested_transaction():
        return
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if pending:
        seal(session, pending)


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    # A rolled-back (or closed) transaction's rows are gone: nothing is left to seal.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def seal(session: Session, pending: Mapping[Table, Mapping[Any, Any]]) -> None:
    """Seal the given new rows of each audit table into its chain, in the committing transaction.

    ``pending`` maps a table to its new rows' primary keys (in insertion order) and their ORM
    objects (or None). Keys no longer there (a savepoint rolled them back) are skipped.

    Locking: each chain's head row is locked (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the
    unit of work's ``BEGIN IMMEDIATE`` already holds the writer lock) after the handler has taken
    all its own locks, chains in table-name order, and held only until the commit that follows.
    A transaction holding a head lock therefore waits for nothing but another head (taken in the
    same order by everyone) and its own uncommitted rows, so no cycle, hence no deadlock, can form;
    concurrent writers of one trail are serialised only for the few statements of the seal.
    """
    for table in sorted(pending, key=lambda t: t.name):
        objects = pending[table]
        (key_column,) = table.primary_key.columns
        rows = session.execute(select(table).where(key_column.in_(list(objects)))).mappings().all()
        by_key = {row[key_column.name]: row for row in rows if row["row_hash"] is None}
        ordered = [key for key in objects if key in by_key]
        if not ordered:
            continue
        seq, head = _lock_head(session, table.name)
        sealed = []
        for key in ordered:
            seq += 1
            digest = row_hash(head, by_key[key])
            sealed.append({"_key": key, "_seq": seq, "_prev": head, "_hash": digest})
            head = digest
        session.execute(
            update(table)
            .where(key_column == bindparam("_key"))
            .values(chain_seq=bindparam("_seq"), prev_hash=bindparam("_prev"), row_hash=bindparam("_hash")),
            sealed,
        )
        session.execute(update(_heads).where(_heads.c.table_name == table.name).values(seq=seq, hash=head))
        for values in sealed:
            obj = objects[values["_key"]]
            if obj is not None:  # the caller's object shows the seal without becoming dirty
                set_committed_value(obj, "chain_seq", values["_seq"])
                set_committed_value(obj, "prev_hash", values["_prev"])
                set_committed_value(obj, "row_hash", values["_hash"])


def _lock_head(session: Session, table_name: str) -> tuple[int, str]:
    locked = select(_heads.c.seq, _heads.c.hash).where(_heads.c.table_name == table_name).with_for_update()
    row = session.execute(locked).first()
    if row is None:  # the migrations make every head; a schema built otherwise starts its chain
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(insert(_heads).values(table_name=table_name, seq=0, hash=GENESIS).on_conflict_do_nothing())
        row = session.execute(locked).one()
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
    and that no row is unsealed. Only committed rows are visible to this read, and the commit that
    inserts a row seals it, so any unsealed row seen here escaped the seal (a write that went round
    the application): a break, whatever its age. Reads one snapshot (REPEATABLE READ on
    PostgreSQL, one read transaction on SQLite) while writers go on; streams a long trail.
    """
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as connection:
        raw = connection.connection.dbapi_connection
        if engine.dialect.name == "sqlite" and raw is not None and not raw.in_transaction:
            # pysqlite begins no transaction for reads: one explicit BEGIN makes all reads one snapshot.
            connection.exec_driver_sql("BEGIN")
        try:
            return [_verify_chain(connection, database, table) for table in tables]
        finally:
            connection.rollback()


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
    if broken is None:
        unsealed = connection.execute(
            select(key_column).where(table.c.chain_seq.is_(None)).order_by(key_column).limit(1)
        ).first()
        if unsealed is not None:
            broken = Break(None, unsealed[0], "unsealed")
    return ChainReport(database, table.name, rows, broken)


def _walk(connection: Connection, table: Table, key_column: Any) -> tuple[Break | None, int, str]:
    """The first break among the sealed rows (None: none), and the last good row's seq and hash."""
    expected_prev, expected_seq = GENESIS, 1
    statement = select(table).where(table.c.chain_seq.is_not(None)).order_by(table.c.chain_seq)
    for row in connection.execution_options(yield_per=1000).execute(statement).mappings():
        key = row[key_column.name]
        if row["chain_seq"] != expected_seq:
            return Break(expected_seq, None, "missing"), expected_seq - 1, expected_prev
        if row["prev_hash"] != expected_prev:
            return Break(expected_seq, key, "link"), expected_seq - 1, expected_prev
        if row_hash(expected_prev, row) != row["row_hash"]:
            return Break(expected_seq, key, "hash"), expected_seq - 1, expected_prev
        expected_prev, expected_seq = row["row_hash"], expected_seq + 1
    return None, expected_seq - 1, expected_prev
