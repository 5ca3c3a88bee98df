"""Contention: many people try to book the same slot at the same instant.

    python -m bench.contention [--clients 200] [--rounds 5] [--mode distributed|embedded|both]
                               [--write docs/PERFORMANCE.md]

Each round, ``--clients`` requests ``POST /api/v1/booking/reservations`` for ONE slot (one
conference room, the same start and end), each with an ``Idempotency-Key`` of its own, spread over
five callers of five tenant organisations (alice and bob of one, carol of another, and the two
desk staff booking for two more), so that neither the per-caller rate limit nor a free-hour quota
decides who wins: only the slot does. Every request has its keep-alive connection opened before a
barrier releases all of them at once.

Asserted for every round, and reported: exactly one 201; every other answer the documented
conflict, a 409 ``application/problem+json`` whose type is ``rule/no-double-booking`` (or
``conflict/concurrent-change``, PostgreSQL's serialization failure answered "try again",
docs/SERVICE.md); no 5xx, no socket error; and afterwards, in the booking database, exactly one
holding reservation for that room in that hour. Timed: from the release until every request had
its answer, and the p50 and p99 of the answers (each from its own send).

Baseline, in the same run: the same number of concurrent POSTs, released the same way, to the bare
Flask app of :mod:`bench.bare` under the server configuration the mode uses: ParkHub's gunicorn
configuration behind the same nginx (its ``/bare`` location) for the distributed mode, werkzeug's
threaded server (as ``parkhub serve`` runs) for the embedded one. The platform and the bare app come
from :mod:`bench.platform` (``bare=True``): PostgreSQL, RabbitMQ, nginx, every worker (distributed),
or ``parkhub serve`` (embedded); everything is torn down at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests
from sqlalchemy import bindparam, create_engine, text

from bench.doc import write_block
from shared.db import UtcDateTime

REPO = Path(__file__).resolve().parents[1]
BLOCK = "contention"
PARK_TZ = ZoneInfo("Asia/Shanghai")
PATH = "/api/v1/booking/reservations"
DEMO_PASSWORD = "parkhub-demo"
TENANTS = ("alice", "bob", "carol")
"""Tenant users booking for their own organisation (alice and bob share one)."""
DESKS = ("desk", "desk2")
"""Desk staff, each booking for one of the seed's tenant organisations without a user of its own."""
CONFLICTS = ("rule/no-double-booking", "conflict/concurrent-change")
HOLDING = ("pending_approval", "confirmed", "checked_in")
FIRST_DAY = 3
"""Round ``i`` books 10:00-11:00 park time on the day ``FIRST_DAY + i`` from today: inside every
room's horizon, past its lead time, and a slot no other round meets."""
THREADS = 8
TIMEOUT = 120.0
"""Seconds a request may take before it counts as a socket error (the answer never came)."""


# -- one burst -----------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no answer (a socket error)
    problem: str = ""  # the problem type's last two path segments, for a problem+json answer
    content_type: str = ""
    latency: float = 0.0  # seconds from this request's send to its answer
    done: float = 0.0  # seconds from the release to this request's answer
    error: str = ""


@dataclass
class Burst:
    """One round's answers to ``clients`` requests released at once."""

    target: str
    answers: list[Answer]
    held: int | None = None  # holding reservations of the slot afterwards (ParkHub only)

    @property
    def statuses(self) -> Counter[int]:
        return Counter(a.status for a in self.answers)

    @property
    def problems(self) -> Counter[str]:
        return Counter(a.problem for a in self.answers if a.problem)

    @property
    def makespan(self) -> float:
        return max(a.done for a in self.answers)

    def percentile(self, share: float) -> float:
        latencies = sorted(a.latency for a in self.answers)
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))]

    def faults(self, *, contended: bool) -> list[str]:
        """What breaks the round's promise; empty when it holds."""
        found = [f"{a.error}" for a in self.answers if a.error][:3]
        statuses = self.statuses
        if any(status >= 500 for status in statuses):
            found.append(f"5xx answers: {dict(statuses)}")
        if not contended:
            if set(statuses) != {201}:
                found.append(f"the bare app answered {dict(statuses)}")
            return found
        if statuses[201] != 1:
            found.append(f"{statuses[201]} answers 201, not exactly one: {dict(statuses)}")
        wrong = [
            a
            for a in self.answers
            if a.status != 201
            and (a.status != 409 or a.content_type != "application/problem+json" or a.problem not in CONFLICTS)
        ]
        if wrong:
            found.append(f"{len(wrong)} answers neither 201 nor the documented 409, e.g. {wrong[0]}")
        if self.held is not None and self.held != 1:
            found.append(f"{self.held} holding reservations of the slot in the database, not one")
        return found


def burst(base_url: str, requests_: list[tuple[dict[str, str], bytes]]) -> list[Answer]:
    """Send every request at once, each on its own keep-alive connection opened beforehand.

    One thread per request: it connects, waits at the barrier, sends, reads the answer. The
    barrier's action stamps the release; a connection that cannot be opened is an answer with
    status 0 (and the barrier is not waited for by its thread, so the others still go)."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path.rstrip("/")
    answers: list[Answer | None] = [None] * len(requests_)
    released: list[float] = []
    connected = threading.Barrier(len(requests_), action=lambda: released.append(time.perf_counter()))

    def one(index: int, headers: dict[str, str], body: bytes) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        try:
            connection.connect()
        except OSError as error:
            answers[index] = Answer(0, error=f"connect: {error!r}")
            connected.abort()
            return
        try:
            connected.wait(timeout=TIMEOUT)
            sent = time.perf_counter()
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            answered = time.perf_counter()
            content_type = (response.getheader("Content-Type") or "").split(";")[0].strip()
            problem = ""
            if content_type == "application/problem+json":
                problem = "/".join(str(json.loads(raw).get("type", "")).rstrip("/").split("/")[-2:])
            answers[index] = Answer(response.status, problem, content_type, answered - sent, answered - released[0])
        except (OSError, http.client.HTTPException, threading.BrokenBarrierError, ValueError) as error:
            answers[index] = Answer(0, error=f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(i, *request), daemon=True) for i, request in enumerate(requests_)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT * 2 + 10)
    return [a if a is not None else Answer(0, error="no answer in time") for a in answers]


# -- ParkHub's side ------------------------------------------------------------------------------


@dataclass
class Scene:
    """The callers and the room every round fights over."""

    callers: list[tuple[str, str | None]]  # (access token, organisation_id for a desk booking)
    space_id: str
    space_code: str
    today: date
    booking_url: str  # SQLAlchemy URL of the booking database
    labels: list[str] = field(default_factory=list)


def grant(base_url: str, username: str) -> str:
    form = {"grant_type": "password", "username": username, "password": DEMO_PASSWORD}
    response = requests.post(f"{base_url}/api/v1/auth/token", data=form, timeout=60)
    if response.status_code != 200:
        raise RuntimeError(f"no token for {username}: {response.status_code} {response.text}")
    return str(response.json()["access_token"])


DIRECTORY_SECONDS = 180.0
"""How long the seed's organisations may take to reach booking's directory (over the bus)."""
USERS_OF = ("Kangcheng", "Shurui")
"""The seed's tenant organisations that have users of their own (alice and bob; carol)."""


def userless_tenants(booking_url: str) -> list[str]:
    """The ids of the seed's tenant organisations without users, once booking's directory (which
    the bus fills after ``parkhub seed``) holds enough of them for the desks."""
    engine = create_engine(booking_url)
    deadline = time.monotonic() + DIRECTORY_SECONDS
    try:
        while True:
            with engine.connect() as connection:
                rows = connection.execute(
                    text("SELECT id, name FROM directory_organisations WHERE kind = 'tenant' ORDER BY name")
                ).all()
            userless = [str(id_) for id_, name in rows if not str(name).startswith(USERS_OF)]
            if len(userless) >= len(DESKS):
                return userless
            if time.monotonic() > deadline:
                raise RuntimeError(f"booking's directory holds {len(rows)} tenant organisations; seeded?")
            time.sleep(0.5)
    finally:
        engine.dispose()


def prepare(base_url: str, booking_url: str) -> Scene:
    """Tokens for the five callers, the userless tenant organisations the desks book for (from
    booking's directory), and the first conference room."""
    userless = userless_tenants(booking_url)
    callers: list[tuple[str, str | None]] = [(grant(base_url, name), None) for name in TENANTS]
    callers += [(grant(base_url, name), org) for name, org in zip(DESKS, userless, strict=False)]
    listed = requests.get(
        f"{base_url}/api/v1/booking/spaces",
        params={"page_size": 200},
        headers={"Authorization": f"Bearer {callers[0][0]}"},
        timeout=30,
    )
    listed.raise_for_status()
    rooms = sorted(
        (s for s in listed.json()["items"] if s["kind"] == "conference_room"), key=lambda s: str(s.get("code", ""))
    )
    if not rooms:
        raise RuntimeError("the seed has no conference room")
    return Scene(
        callers=callers,
        space_id=rooms[0]["id"],
        space_code=str(rooms[0].get("code", rooms[0]["id"])),
        today=datetime.now(PARK_TZ).date(),
        booking_url=booking_url,
        labels=[*TENANTS, *(f"{d} for a tenant" for d in DESKS)],
    )


def slot(scene: Scene, round_: int) -> tuple[datetime, datetime]:
    day = scene.today + timedelta(days=FIRST_DAY + round_)
    start = datetime(day.year, day.month, day.day, 10, tzinfo=PARK_TZ)
    return start, start + timedelta(hours=1)


def creates(scene: Scene, round_: int, clients: int) -> list[tuple[dict[str, str], bytes]]:
    start, end = slot(scene, round_)
    batch = []
    for index in range(clients):
        token, org = scene.callers[index % len(scene.callers)]
        body: dict[str, Any] = {
            "space_id": scene.space_id,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "title": f"Contention round {round_ + 1}, request {index + 1}",
            "attendees": 4,
        }
        if org is not None:
            body["organisation_id"] = org
        headers = {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        batch.append((headers, json.dumps(body).encode()))
    return batch


def holding(scene: Scene, round_: int) -> int:
    """Holding reservations of the round's room that meet its hour, in the booking database."""
    start, end = slot(scene, round_)
    engine = create_engine(scene.booking_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT count(*) FROM reservations WHERE space_id = :space AND status IN :holding "
                        "AND hold_start < :end AND hold_end > :start"
                    ).bindparams(
                        bindparam("holding", expanding=True),
                        # Written as UTC on both databases (SQLite keeps no offset): compared the same way.
                        bindparam("start", type_=UtcDateTime()),
                        bindparam("end", type_=UtcDateTime()),
                    ),
                    {"space": scene.space_id, "holding": list(HOLDING), "start": start, "end": end},
                ).scalar_one()
            )
    finally:
        engine.dispose()


def bare_posts(clients: int) -> list[tuple[dict[str, str], bytes]]:
    body = json.dumps({"space_id": "bare", "start": "10:00", "end": "11:00", "title": "bare", "attendees": 4})
    return [({"Content-Type": "application/json"}, body.encode()) for _ in range(clients)]


# -- a run ---------------------------------------------------------------------------------------


@dataclass
class Round:
    number: int
    parkhub: Burst
    bare: Burst

    def faults(self) -> list[str]:
        return self.parkhub.faults(contended=True) + self.bare.faults(contended=False)


def contend(
    base_url: str, booking_url: str, bare_url: str, *, clients: int, rounds: int, pause: float = 1.0
) -> tuple[Scene, list[Round]]:
    """``rounds`` rounds against a running platform and its bare baseline: each round the bare
    burst first, then ParkHub's on a slot of its own, then the database check."""
    scene = prepare(base_url, booking_url)
    done = []
    for number in range(rounds):
        bare = Burst("bare", burst(bare_url, bare_posts(clients)))
        time.sleep(pause)  # let the bare app's connections close before ParkHub's burst
        parkhub = Burst("parkhub", burst(base_url + PATH, creates(scene, number, clients)))
        parkhub.held = holding(scene, number)
        done.append(Round(number + 1, parkhub, bare))
        time.sleep(pause)
    return scene, done


def sqlalchemy_url(url: str) -> str:
    """A database URL of :mod:`bench.platform` (libpq URL or SQLite path) as SQLAlchemy takes it."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url if "://" in url else f"sqlite:///{url}"


def run_mode(mode: str, *, clients: int, rounds: int, workers: int) -> tuple[Scene, list[Round]]:
    from bench import platform

    context = (
        platform.distributed(workers=workers, bare=True) if mode == "distributed" else platform.embedded(bare=True)
    )
    with context as running:
        booking = sqlalchemy_url(running.database_urls["booking"])
        return contend(running.base_url, booking, running.bare_url, clients=clients, rounds=rounds)


# -- the report ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def table(mode: str, workers: int, rounds: list[Round]) -> list[str]:
    if mode == "distributed":
        where = f"nginx → gunicorn ({workers} gthread workers × {THREADS} threads), PostgreSQL, RabbitMQ, every worker"
        baseline = "the bare app under the same gunicorn configuration, behind the same nginx (`/bare`)"
    else:
        where = "`parkhub serve` (werkzeug's threaded server, SQLite, the in-process bus)"
        baseline = "the bare app under werkzeug's threaded server"
    lines = [
        f"**{mode.capitalize()}**: {where}. Baseline: {baseline}.",
        "",
        "| round | ParkHub answers | held in the database | all answered | p50 | p99 "
        "| bare: all answered | bare p50 | bare p99 | × all answered |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rounds:
        p, b = r.parkhub, r.bare
        answers = ", ".join(f"{n} × {status or 'socket error'}" for status, n in sorted(p.statuses.items()))
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(p.problems.items()))
        verdict = "" if not r.faults() else " **FAULT**"
        lines.append(
            f"| {r.number}{verdict} | {answers} ({kinds}) | {p.held} | {ms(p.makespan)} | {ms(p.percentile(0.5))} "
            f"| {ms(p.percentile(0.99))} | {ms(b.makespan)} | {ms(b.percentile(0.5))} | {ms(b.percentile(0.99))} "
            f"| ×{p.makespan / b.makespan:.1f} |"
        )
    spans = [r.parkhub.makespan for r in rounds]
    bare_spans = [r.bare.makespan for r in rounds]
    lines += [
        "",
        f"Median over the rounds: every answer after {ms(statistics.median(spans))} "
        f"(bare {ms(statistics.median(bare_spans))}, ×{statistics.median(spans) / statistics.median(bare_spans):.1f}).",
    ]
    return lines


def report(clients: int, workers: int, results: list[tuple[str, Scene, list[Round]]]) -> str:
    when = datetime.now(PARK_TZ).strftime("%Y-%m-%d %H:%M %z")
    load = os.getloadavg()[0]
    lines = [
        f"{when}, {os.cpu_count()} cores, load average {load:.2f} at the end. Each round: {clients} "
        "concurrent creates of one slot (one conference room, 10:00-11:00 on a day of its own), callers "
        f"{', '.join(results[0][1].labels)} in turn; the bare POSTs just before, released the same way.",
        "",
    ]
    for mode, _, rounds in results:
        lines += table(mode, workers, rounds) + [""]
    return "\n".join(lines).rstrip()


def write(path: Path, text_: str) -> None:
    write_block(path, BLOCK, text_)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of every API and the bare app")
    parser.add_argument("--mode", choices=("distributed", "embedded", "both"), default="both")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    modes = ("distributed", "embedded") if args.mode == "both" else (args.mode,)
    results = []
    for mode in modes:
        scene, rounds = run_mode(mode, clients=args.clients, rounds=args.rounds, workers=args.workers)
        results.append((mode, scene, rounds))
    text_ = report(args.clients, args.workers, results)
    print(text_)
    faults = [f"{mode} round {r.number}: {f}" for mode, _, rounds in results for r in rounds for f in r.faults()]
    if faults:
        print("\n".join(faults), file=sys.stderr)
        if args.write:
            print("not written: a round broke its promise", file=sys.stderr)
        sys.exit(1)
    if args.write:
        write(args.write, text_)


if __name__ == "__main__":
    main()
