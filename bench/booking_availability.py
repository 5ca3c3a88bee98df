"""Availability search at 10 thousand and 1 million reservations over 1,000 spaces.

    python -m bench.booking_availability [--url URL] [--sizes 10000,1000000] [--spaces 1000]
                                         [--repeat 15] [--write docs/PERFORMANCE.md]

Each size gets a fresh database built by the migrations, filled with raw SQL bulk inserts
(``executemany`` on SQLite, ``COPY`` on PostgreSQL). The window searched holds the same number of
reservations at every size (three per space on one day); the rest is history before it. So if
the search is index-bound its time stays flat while the table grows a hundredfold.

Figures are ratios against a baseline measured in the same run on the same database: one raw
indexed SQL lookup of one space's holds in the window. Not a timed test: run it by hand.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bench.doc import write_block
from migrations import upgrade
from services.booking.models import database as booking_database
from services.booking.queries.availability import search, timeline
from shared.clock import PARK_TZ
from shared.db import forget_databases
from shared.principal import Principal
from shared.settings import Settings

SLOTS = ((9, 11), (13, 15), (16, 18))
"""Three two-hour reservations a day per space, park time."""
STAFF = Principal(subject="user:bench", org_id="bench", org_kind="operator", roles=frozenset({"desk_staff"}))
WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Figures:
    size: int
    spaces: int
    backend: str
    timings_ms: dict[str, float]
    plan: str


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARK_TZ).astimezone(UTC)


def _stamp(moment: datetime, sqlite: bool) -> Any:
    # SQLite stores SQLAlchemy's text form; compare and sort it exactly as the ORM writes it.
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else moment


def build(url: str, *, spaces: int, reservations: int, window_day: date) -> list[str]:
    """Migrate ``url`` and fill it; returns the space ids. ``window_day`` gets the last three
    reservations of every space, earlier days the rest."""
    upgrade("booking", url)
    engine = create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    now = datetime.now(UTC)
    ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-space-{i}")) for i in range(spaces)]
    space_rows = [
        {
            "id": space_id,
            "code": f"bench-{i:05d}",
            "kind": "conference_room",
            "name": f"Bench room {i}",
            "name_zh": f"基准会议室{i}",
            "building": f"Bench {i // 50}",
            "capacity": 10 + (i % 20) * 10,
            "layouts": '{"theatre": 10}',
            "equipment": '["projector"]' if i % 3 else '["projector", "led_wall"]',
            "opening_hours": "{" + ", ".join(f'"{d}": [["08:00", "22:00"]]' for d in WEEK) + "}",
            "created_at": _stamp(now, sqlite),
            "updated_at": _stamp(now, sqlite),
        }
        for i, space_id in enumerate(ids)
    ]
    per_space = max(1, reservations // spaces)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO spaces (id, code, kind, name, name_zh, building, floor, capacity, layouts, equipment, "
                "description, description_zh, opening_hours, slot_minutes, min_duration_minutes, "
                "max_duration_minutes, lead_time_minutes, horizon_days, setup_minutes, cleanup_minutes, "
                "approval_mode, approval_threshold, hourly_price, currency, free_cancel_hours, "
                "late_cancel_fee_percent, check_in_opens_minutes, check_in_grace_minutes, active, version, "
                "created_at, updated_at) VALUES (:id, :code, :kind, :name, :name_zh, :building, NULL, :capacity, "
                ":layouts, :equipment, '', '', :opening_hours, 30, 30, 480, 0, 400, 15, 15, 'never', NULL, 100, "
                "'CNY', 24, 50, 15, 15, TRUE, 1, :created_at, :updated_at)"
            ),
            space_rows,
        )
    columns = (
        "id",
        "space_id",
        "org_id",
        "org_kind",
        "booked_by",
        "title",
        "attendees",
        "status",
        "starts_at",
        "ends_at",
        "hold_start",
        "hold_end",
        "price",
        "currency",
        "quota_minutes",
        "billable_minutes",
        "sequence",
        "version",
        "created_at",
        "updated_at",
    )

    def rows() -> Any:
        for space_id in ids:
            for k in range(per_space):
                back = k // len(SLOTS)  # days before the window day
                first, last = SLOTS[k % len(SLOTS)]
                day = window_day - timedelta(days=back)
                start, end = _at(day, first), _at(day, last)
                yield (
                    str(uuid.uuid4()),
                    space_id,
                    "bench-org",
                    "tenant",
                    "user:bench",
                    "Bench",
                    5,
                    "confirmed" if back == 0 else "completed",
                    _stamp(start, sqlite),
                    _stamp(end, sqlite),
                    _stamp(start - timedelta(minutes=15), sqlite),
                    _stamp(end + timedelta(minutes=15), sqlite),
                    "200.00",
                    "CNY",
                    0,
                    120,
                    0,
                    1,
                    _stamp(now, sqlite),
                    _stamp(now, sqlite),
                )

    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if sqlite:
            placeholders = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO reservations ({', '.join(columns)}) VALUES ({placeholders})", rows())
        else:
            with cursor.copy(f"COPY reservations ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows():
                    copy.write_row(row)
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    engine.dispose()
    return ids


def _best_ms(work: Callable[[], Any], repeat: int) -> float:
    """The best of ``repeat`` runs after a warm-up: the machine is shared (other test runs), and
    the minimum is the figure least disturbed by them."""
    work()  # warm caches and pools
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return min(samples)


HOLDS_SQL = (
    "SELECT space_id, hold_start, hold_end FROM reservations WHERE space_id IN ({ids}) "
    "AND hold_start >= :lo AND hold_start < :hi AND hold_end > :start "
    "AND status IN ('pending_approval', 'confirmed', 'checked_in')"
)
PG_OVERLAP = " AND tstzrange(hold_start, hold_end, '[)') && tstzrange(:start, :hi, '[)')"
"""What the search adds on PostgreSQL (see ``holds_meeting``): the GiST index answers it."""


def holds_sql(dialect: str, ids: str) -> str:
    return HOLDS_SQL.format(ids=ids) + (PG_OVERLAP if dialect == "postgresql" else "")


def _plan(engine: Engine, space_ids: list[str], lo: Any, hi: Any, start: Any) -> str:
    sqlite = engine.dialect.name == "sqlite"
    ids = ", ".join(f"'{s}'" for s in space_ids[:3])
    query = holds_sql(engine.dialect.name, ids)
    explain = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
    with engine.connect() as connection:
        rows = connection.execute(text(explain + query), {"lo": lo, "hi": hi, "start": start}).all()
    return " | ".join(str(row[-1]) for row in rows)


def measure(url: str, space_ids: list[str], window_day: date, *, repeat: int) -> tuple[dict[str, float], str]:
    settings = Settings(var_dir=Path(tempfile.gettempdir()), database_urls={"booking": url})
    database = booking_database(settings)
    sqlite = database.is_sqlite
    start, end = _at(window_day, 0), _at(window_day + timedelta(days=1), 0)
    lo = start - timedelta(days=15, minutes=15)
    now = _at(window_day, 0) - timedelta(days=1)
    one = space_ids[len(space_ids) // 2]

    def baseline() -> Any:
        with database.reading() as session:
            return session.execute(
                text(
                    "SELECT hold_start, hold_end FROM reservations WHERE space_id = :space "
                    "AND hold_start >= :lo AND hold_start < :hi"
                ),
                {"space": one, "lo": _stamp(start, sqlite), "hi": _stamp(end, sqlite)},
            ).all()

    def all_holds() -> Any:
        query = holds_sql(database.engine.dialect.name, ", ".join(f"'{s}'" for s in space_ids))
        with database.reading() as session:
            return session.execute(
                text(query), {"lo": _stamp(lo, sqlite), "hi": _stamp(end, sqlite), "start": _stamp(start, sqlite)}
            ).all()

    def search_all() -> Any:
        with database.reading() as session:
            return search(session, STAFF, {"start": start, "end": end, "page_size": 50}, now=now)

    def search_filtered() -> Any:
        args = {"start": start, "end": end, "attendees": 150, "equipment": ["led_wall"], "page_size": 50}
        with database.reading() as session:
            return search(session, STAFF, args, now=now)

    def one_timeline() -> Any:
        with database.reading() as session:
            return timeline(session, STAFF, one, window_day, days=7, now=now)

    assert len(baseline()) == len(SLOTS), "the window must hold three reservations per space"
    timings = {
        "baseline: raw indexed SQL, one space": _best_ms(baseline, repeat),
        "holds of all spaces in the window (the search's SQL)": _best_ms(all_holds, repeat),
        "availability search, all spaces": _best_ms(search_all, repeat),
        "availability search, filtered (150+ seats, LED wall)": _best_ms(search_filtered, repeat),
        "timeline of one space, one week": _best_ms(one_timeline, repeat),
    }
    plan = _plan(database.engine, space_ids, _stamp(lo, sqlite), _stamp(end, sqlite), _stamp(start, sqlite))
    forget_databases()
    return timings, plan


def run(url: str | None, *, sizes: list[int], spaces: int, repeat: int) -> list[Figures]:
    results = []
    window_day = datetime.now(PARK_TZ).date() + timedelta(days=30)
    for size in sizes:
        with tempfile.TemporaryDirectory() as folder:
            target = url or f"sqlite:///{folder}/bench-{size}.db"
            fresh = _fresh(target, size)
            try:
                ids = build(fresh, spaces=spaces, reservations=size, window_day=window_day)
                timings, plan = measure(fresh, ids, window_day, repeat=repeat)
            finally:
                _drop(target, fresh)
        backend = make_url(target).get_backend_name()
        results.append(Figures(size, spaces, backend, timings, plan))
    return results


def _fresh(url: str, size: int) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return url
    name = f"parkhub_bench_{size}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


def _drop(url: str, fresh: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{make_url(fresh).database}" WITH (FORCE)'))
    admin.dispose()


def report(results: list[Figures]) -> str:
    """A markdown table: best-of-N ms, ratio to the baseline, and ratio to the smallest size."""
    if not results:
        return ""
    first = results[0]
    lines = [
        f"Backend: {first.backend}; {first.spaces} spaces; window: one day holding 3 reservations per space; "
        "best of the runs, in ms.",
        "",
        "| measure | " + " | ".join(f"{r.size:,} reservations" for r in results) + " | growth |",
        "| --- | " + " | ".join("---" for _ in results) + " | --- |",
    ]
    for name in first.timings_ms:
        cells = []
        for r in results:
            base = r.timings_ms["baseline: raw indexed SQL, one space"]
            cells.append(f"{r.timings_ms[name]:.2f} ms (×{r.timings_ms[name] / base:.1f})")
        growth = results[-1].timings_ms[name] / first.timings_ms[name]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | ×{growth:.2f} |")
    lines += ["", "Query plan of the holds lookup at the largest size:", "", f"    {results[-1].plan}"]
    return "\n".join(lines)


def write(path: Path, section: str, backend: str) -> None:
    """Replace this backend's block of ``path``, or append one."""
    write_block(path, f"booking-availability:{backend}", section)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a database URL (default: a new SQLite file per size)")
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--spaces", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--write", type=Path, help="put the table into this markdown file (between markers)")
    args = parser.parse_args(argv)
    results = run(args.url, sizes=[int(s) for s in args.sizes.split(",")], spaces=args.spaces, repeat=args.repeat)
    table = report(results)
    print(table)
    if args.write and results:
        write(args.write, table, results[0].backend)


if __name__ == "__main__":
    main()
