"""The audit trail's hash chain and append-only triggers, one step each audit database shares.

Frozen like ``migrations/common.py``: a later change is a new step (``..._v2``). The chain's hashing
itself is ``shared.audit.row_hash`` (its canonical JSON is the chain's contract: changing it would
break every chain already sealed, so it never changes in place either).

``upgrade_audit_chain_v1`` adds ``chain_seq``/``prev_hash``/``row_hash`` and a unique index to each
audit table (plain ``ADD COLUMN``: SQLite rebuilds no table), makes ``audit_chain_heads``, seals
the rows already there in the given order so the chain covers history, and then makes the
triggers that refuse every UPDATE but the seal, every DELETE and TRUNCATE, and any head move but
forward. On SQLite a later migration that rebuilds an audit table (batch mode) drops its triggers:
that migration must make them again (``sqlite_triggers`` below).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from shared.audit import CHAIN_COLUMNS, GENESIS, HEADS, row_hash

PG_FUNCTIONS = """
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The one update a row takes: its seal (chain columns set once, nothing else changed).
    IF TG_OP = 'UPDATE' THEN
        IF OLD.row_hash IS NULL AND NEW.row_hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
           AND NEW.chain_seq IS NOT NULL
           AND (to_jsonb(OLD) - 'chain_seq' - 'prev_hash' - 'row_hash')
               = (to_jsonb(NEW) - 'chain_seq' - 'prev_hash' - 'row_hash') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'the audit trail % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE FUNCTION audit_chain_head_forward() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.table_name = OLD.table_name AND NEW.seq > OLD.seq THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'audit_chain_heads only moves forward: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""


def upgrade_audit_chain_v1(order: Mapping[str, Sequence[str]]) -> None:
    """Chain, seal and protect each audit table; ``order`` names each table's columns to seal
    its existing rows by (``id`` for an autoincremented key)."""
    op.create_table(
        HEADS,
        sa.Column("table_name", sa.String(60), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=f"pk_{HEADS}"),
    )
    for table in order:
        op.add_column(table, sa.Column("chain_seq", sa.Integer(), nullable=True))
        op.add_column(table, sa.Column("prev_hash", sa.String(64), nullable=True))
        op.add_column(table, sa.Column("row_hash", sa.String(64), nullable=True))
        op.create_index(f"ix_{table}_chain_seq", table, ["chain_seq"], unique=True)
    bind = op.get_bind()
    for table, columns in order.items():
        _seal_history(bind, table, columns)
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTIONS)
        for table in order:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
            )
        op.execute(
            f"CREATE TRIGGER {HEADS}_forward BEFORE UPDATE OR DELETE ON {HEADS} "
            "FOR EACH ROW EXECUTE FUNCTION audit_chain_head_forward()"
        )
        op.execute(
            f"CREATE TRIGGER {HEADS}_no_truncate BEFORE TRUNCATE ON {HEADS} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_chain_head_forward()"
        )
    else:
        for table in order:
            for statement in sqlite_triggers(bind, table):
                op.execute(statement)
        for statement in SQLITE_HEAD_TRIGGERS:
            op.execute(statement)


SQLITE_HEAD_TRIGGERS = (
    f"CREATE TRIGGER {HEADS}_forward BEFORE UPDATE ON {HEADS} "
    "WHEN NOT (NEW.table_name IS OLD.table_name AND NEW.seq > OLD.seq) "
    f"BEGIN SELECT RAISE(ABORT, '{HEADS} only moves forward: UPDATE refused'); END",
    f"CREATE TRIGGER {HEADS}_keep BEFORE DELETE ON {HEADS} "
    f"BEGIN SELECT RAISE(ABORT, '{HEADS} only moves forward: DELETE refused'); END",
)
"""SQLite's triggers of ``audit_chain_heads``: a head only moves forward, and is never deleted."""


@contextmanager
def sqlite_triggers_lifted(bind: sa.Connection) -> Iterator[None]:
    """For test rigs that empty a SQLite database between examples (never the application): the
    audit triggers are dropped for the block and made again after it, in the caller's transaction.
    Exactly what the database file's owner could do; the hash chain is what would tell."""
    names = bind.exec_driver_sql(
        "SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' AND "
        "(name LIKE '%\\_append\\_only\\_%' ESCAPE '\\' OR tbl_name = ?)",
        (HEADS,),
    ).all()
    tables = sorted({table for _, table in names if table != HEADS})
    for name, _ in names:
        bind.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield
    for table in tables:
        for statement in sqlite_triggers(bind, table):
            bind.exec_driver_sql(statement)
    if any(table == HEADS for _, table in names):
        for statement in SQLITE_HEAD_TRIGGERS:
            bind.exec_driver_sql(statement)


def sqlite_triggers(bind: sa.Connection, table: str) -> list[str]:
    """SQLite's append-only triggers of ``table`` (its business columns read from the database).

    SQLite has no TRUNCATE; a ``DELETE`` without ``WHERE`` runs the delete trigger too.
    """
    business = [c["name"] for c in sa.inspect(bind).get_columns(table) if c["name"] not in CHAIN_COLUMNS]
    unchanged = " AND ".join(f'NEW."{name}" IS OLD."{name}"' for name in business)
    seal = (
        "OLD.row_hash IS NULL AND NEW.row_hash IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.chain_seq IS NOT NULL"
    )
    return [
        f"CREATE TRIGGER {table}_append_only_update BEFORE UPDATE ON {table} "
        f"WHEN NOT ({seal} AND {unchanged}) "
        f"BEGIN SELECT RAISE(ABORT, 'the audit trail {table} is append-only: UPDATE refused'); END",
        f"CREATE TRIGGER {table}_append_only_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'the audit trail {table} is append-only: DELETE refused'); END",
    ]


def _seal_history(bind: sa.Connection, table_name: str, order_by: Sequence[str]) -> None:
    # The rows a database held before the chain existed are sealed in the given order (id order),
    # so the chain covers the whole history, not only what is written from now on.
    table = sa.Table(table_name, sa.MetaData(), autoload_with=bind)
    (key,) = table.primary_key.columns
    prev, seq, sealed = GENESIS, 0, []
    for row in bind.execute(sa.select(table).order_by(*(table.c[c] for c in order_by))).mappings():
        seq += 1
        digest = row_hash(prev, row)
        sealed.append({"_key": row[key.name], "_seq": seq, "_prev": prev, "_hash": digest})
        prev = digest
    if sealed:
        bind.execute(
            sa.update(table)
            .where(key == sa.bindparam("_key"))
            .values(chain_seq=sa.bindparam("_seq"), prev_hash=sa.bindparam("_prev"), row_hash=sa.bindparam("_hash")),
            sealed,
        )
    heads = sa.table(HEADS, sa.column("table_name"), sa.column("seq"), sa.column("hash"))
    bind.execute(sa.insert(heads).values(table_name=table_name, seq=seq, hash=prev))


def downgrade_audit_chain_v1(tables: Sequence[str]) -> None:
    """Drop the triggers, the chain columns and ``audit_chain_heads`` (the trail's rows stay)."""
    if op.get_bind().dialect.name == "postgresql":
        for table in (*tables, HEADS):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {HEADS}_forward ON {HEADS}")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
        op.execute("DROP FUNCTION IF EXISTS audit_chain_head_forward()")
    else:
        for table in tables:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_delete")
        op.execute(f"DROP TRIGGER IF EXISTS {HEADS}_forward")
        op.execute(f"DROP TRIGGER IF EXISTS {HEADS}_keep")
    for table in tables:
        op.drop_index(f"ix_{table}_chain_seq", table_name=table)
        with op.batch_alter_table(table) as batch:
            for column in reversed(CHAIN_COLUMNS):
                batch.drop_column(column)
    op.drop_table(HEADS)
