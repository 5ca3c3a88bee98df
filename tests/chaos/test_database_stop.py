"""PostgreSQL stopped for ten seconds under a running distributed platform: fast 503s, no partial
write, and everything back by itself.

A real platform (``parkhub migrate`` and ``seed``, the gateway and four APIs under gunicorn, a
worker per service, nginx, this machine's RabbitMQ in a namespace of the test's own) runs on a
PostgreSQL cluster of the test's own (:mod:`tests.chaos.postgres`). While a steady stream of writes
(organisations, reservations, cases, finance applications: :class:`tests.chaos.rig.Stream`) and of
reads goes through nginx, the cluster is stopped (``pg_ctl stop -m fast``: every session cut) for
:data:`OUTAGE_SECONDS`, then started again. Asserted:

- during the outage every request is answered within :data:`ANSWER_BOUND` seconds with a 503
  problem+json carrying ``Retry-After``; no request of the whole run is answered with another 5xx;
- ``/api/v1/health`` answers 503 and says the gateway's and the services' databases are down;
- once the cluster is back, reads and writes succeed again without restarting anything, within
  :data:`RECOVERY_BOUND` seconds;
- no partial write: every write answered 2xx, and every unanswered one whose row is in its database,
  has its event in the outbox (state and event commit together); every event, written before or
  after the outage, is confirmed by the broker and in every subscriber's inbox; nothing applied
  twice, nothing dead-lettered (:mod:`tests.chaos.counts`).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.chaos import report
from tests.chaos.postgres import ChaosCluster, private_cluster
from tests.chaos.rig import RATE_LIMIT, Chaos, Probe, Stream, summary
from tests.integration.conftest import BusNamespaces
from tests.integration.platform import running_platform

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow, pytest.mark.chaos]

BUDGET_SECONDS = 240.0
"""The whole platform's time, start included: its start (migrate, seed, nine processes) took 72 s
alone and 109 s beside other tests on a loaded 2-CPU machine; what follows takes about 45 s."""
OUTAGE_SECONDS = 10.0
ANSWER_BOUND = 5.0
"""No request may wait longer than this for its answer while the database is away (no hang)."""
RECOVERY_BOUND = 20.0
"""Seconds after the cluster is back within which every kind of read and a write succeed again."""
CONVERGE_SECONDS = 60.0
PROBLEM = "application/problem+json"
READS = (
    ("admin", "/api/v1/organisations"),
    ("alice", "/api/v1/booking/reservations"),
    ("bob", "/api/v1/consulting/cases"),
    ("alice", "/api/v1/finance/applications"),
    ("alice", "/api/v1/notify/notifications"),
)


@dataclass(frozen=True)
class Answer:
    """One request of the run as the client saw it (``status`` 0: no answer at all)."""

    method: str
    path: str
    started: float
    seconds: float
    status: int
    content_type: str = ""
    retry_after: str | None = None
    problem_type: str = ""

    @property
    def write(self) -> bool:
        return self.method != "GET"

    @property
    def what(self) -> str:
        return f"{self.method} {'/'.join(self.path.split('?')[0].split('/')[:5])}"


class TimedStream(Stream):
    """The rig's stream, each of its requests also kept as an :class:`Answer`; and a reader
    thread going round :data:`READS`."""

    def __init__(self, base_url: str, tag: str) -> None:
        super().__init__(base_url, tag, threads=2, pause=0.05)
        self.answers: list[Answer] = []
        self._reader = threading.Thread(target=self._read, name="stream-reader", daemon=True)

    def start(self) -> None:
        super().start()
        self._reader.start()

    def stop(self) -> None:
        super().stop()
        self._reader.join(30)
        assert not self._reader.is_alive(), "the reader did not stop"

    def _timed(self, http: requests.Session, method: str, path: str, **kwargs: Any) -> requests.Response | None:
        started = time.monotonic()
        try:
            answer = http.request(method, f"{self.base_url}{path}", timeout=15, **kwargs)
        except requests.RequestException:
            self.answers.append(Answer(method, path, started, time.monotonic() - started, 0))
            return None
        problem = ""
        if answer.headers.get("Content-Type", "").startswith("application/problem+json"):
            problem = str(answer.json().get("type", "")).rsplit("/", 1)[-1]
        self.answers.append(
            Answer(
                method,
                path,
                started,
                time.monotonic() - started,
                answer.status_code,
                answer.headers.get("Content-Type", ""),
                answer.headers.get("Retry-After"),
                problem,
            )
        )
        return answer

    def _call(self, http: requests.Session, op: Any, method: str, path: str, **kwargs: Any) -> Any:
        # The rig's own bookkeeping (outcome, refusal) from the answer this request got.
        answer = self._timed(http, method, path, **kwargs)
        if answer is None:
            op.outcome = "unknown"
            return None
        if answer.status_code < 300:
            return answer
        op.outcome = "refused" if answer.status_code < 500 else "unknown"
        if op.outcome == "refused":
            op.refusal = f"{answer.status_code} {path.split('/')[3]}"
        return None

    def _read(self) -> None:
        http = requests.Session()
        try:
            n = 0
            while not self._stop.is_set():
                user, path = READS[n % len(READS)]
                self._timed(http, "GET", path, headers=self._auth(user))
                n += 1
                self._stop.wait(0.1)
        finally:
            http.close()


@contextmanager
def platform_on(cluster: ChaosCluster, rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    """The distributed platform on fresh databases of ``cluster``, a bus namespace of its own on
    the machine's broker and a probe queue on it; all removed at the end. (Its workers keep the
    metrics-less start of :func:`running_platform`: the duplicates the inboxes drop are counted
    in their tables here, not scraped.)"""
    namespaces = BusNamespaces(rabbitmq_url)
    try:
        with running_platform(
            cluster.databases(),
            namespaces,
            tmp_path_factory,
            budget_seconds=BUDGET_SECONDS,
            PARKHUB_RATE_LIMIT=RATE_LIMIT,
        ) as platform:
            chaos = Chaos(platform, Probe(rabbitmq_url, platform.env["PARKHUB_BUS_NAMESPACE"]))
            try:
                chaos.probe.declare()
                yield chaos
            finally:
                chaos.databases.dispose()
                chaos.probe.delete()
    finally:
        namespaces.delete_all()


@pytest.mark.duration(seconds=200)
def test_postgresql_stopped_for_ten_seconds(rabbitmq_url: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    started = time.monotonic()
    with private_cluster() as cluster, platform_on(cluster, rabbitmq_url, tmp_path_factory) as chaos:
        ready = time.monotonic() - started
        chaos.mark()
        stream = TimedStream(chaos.platform.base_url, uuid.uuid4().hex[:6])
        stream.start()
        try:
            stream.wait_for_operations(16, 30)
            before = len(stream.ledger.operations)
            stop_began = time.monotonic()
            cluster.stop("fast")
            down_at = time.monotonic()
            time.sleep(2)
            health_status, health = chaos.health()
            time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
            up_from = time.monotonic()
            cluster.start()
            up_at = time.monotonic()
            recovered = wait_for_recovery(stream, up_at)
            stream.wait_for_operations(len(stream.ledger.operations) + 16, 30)
        finally:
            stream.stop()
        assert not stream.errors, stream.errors
        health_after = wait_for_health(chaos, up_at)
        counts, took = chaos.converge(stream.ledger, CONVERGE_SECONDS)
        counts.dropped = None  # no worker serves metrics here: the report says "not measured", not 0
        converged = time.monotonic() - started

    answers = stream.answers
    outage = [a for a in answers if a.started >= down_at and a.started + a.seconds <= up_from]
    phases = {
        "before the stop": [a for a in answers if a.started + a.seconds < stop_began],
        "while pg_ctl stopped it": [a for a in answers if a.started + a.seconds >= stop_began and a.started < down_at],
        "database stopped": outage,
        "while pg_ctl started it": [
            a for a in answers if down_at <= a.started < up_at and a.started + a.seconds > up_from
        ],
        "after the start": [a for a in answers if a.started >= up_at],
    }
    report.record(
        "postgres-stop-requests",
        f"PostgreSQL stopped for {OUTAGE_SECONDS:.0f} s (pg_ctl stop -m fast): the requests through nginx",
        [
            {
                "phase": phase,
                "requests": len(rows),
                "2xx": sum(200 <= a.status < 300 for a in rows),
                "4xx": sum(400 <= a.status < 500 for a in rows),
                "503 problem": sum(a.status == 503 and a.content_type.startswith(PROBLEM) for a in rows),
                "other 5xx or none": sum(a.status >= 500 and a.status != 503 or a.status == 0 for a in rows),
                "slowest (s)": round(max((a.seconds for a in rows), default=0.0), 2),
            }
            for phase, rows in phases.items()
        ]
        + [
            {
                "phase": "back to 2xx after the start (s)",
                "requests": "",
                "2xx": round(max(recovered.values()), 1),
                "4xx": "",
                "503 problem": "",
                "other 5xx or none": "",
                "slowest (s)": "",
            }
        ],
        seconds=time.monotonic() - started,
    )
    report.record(
        "postgres-stop",
        f"PostgreSQL stopped for {OUTAGE_SECONDS:.0f} s mid-stream, then started again: the events",
        counts.table(),
        seconds=time.monotonic() - started,
    )
    print(
        f"\npostgres-stop: {summary(counts, stream.ledger)}; {len(outage)} requests during the outage "
        f"({Counter(a.status for a in outage)}), back in {recovered}, converged {took:.1f} s after the stream;"
        f" platform up at {ready:.0f} s, "
        f"converged at {converged:.0f} s, stopped at {time.monotonic() - started:.0f} s"
    )

    # During the outage: a quick, honest 503 for every request, reads and writes alike.
    assert len(outage) >= 20, f"only {len(outage)} requests fell into the outage"
    assert {a.write for a in outage} == {True, False}, "the outage saw no reads or no writes"
    wrong = [a for a in outage if a.status != 503 or not a.content_type.startswith(PROBLEM)]
    assert not wrong, f"answers other than a 503 problem while the database was away: {wrong[:5]}"
    assert all(a.retry_after and int(a.retry_after) > 0 for a in outage), "a 503 without Retry-After"
    slow = [a for a in outage if a.seconds >= ANSWER_BOUND]
    assert not slow, f"requests that hung while the database was away: {slow[:5]}"
    # Nothing in the whole run was a 500 (or a 502/504 of nginx, or a cut connection).
    broken = [a for a in answers if (a.status >= 500 and a.status != 503) or a.status == 0]
    assert not broken, f"answers that were no 503 problem: {broken[:5]}"

    assert health_status == 503, health
    assert health["type"].endswith("/problems/unavailable")
    assert health["services"]["gateway"]["database"]["status"] == "down"
    for service in ("booking", "consulting", "finance", "notify"):
        assert health["services"][service]["status"] != "ok", health["services"][service]
    assert health_after < RECOVERY_BOUND + CONVERGE_SECONDS

    # Writes committed before and after the outage, and every one of them complete everywhere.
    committed = stream.ledger.committed()
    assert before >= 16 and len(stream.ledger.operations) > before
    assert any(a.write and 200 <= a.status < 300 and a.started >= up_at for a in answers)
    assert len({op.kind for op in committed}) == len(Stream.KINDS) + 1, "some kind of operation never committed"
    assert not counts.problems(), "\n".join(counts.problems()[:30])


def wait_for_recovery(stream: TimedStream, up_at: float) -> dict[str, float]:
    """Seconds from the cluster's start to the first 2xx of every kind of read and of a write."""
    kinds = {f"GET {path.split('?')[0]}" for _, path in READS} | {"write"}
    deadline = up_at + RECOVERY_BOUND
    while True:
        back: dict[str, float] = {}
        for a in list(stream.answers):
            if a.started >= up_at and 200 <= a.status < 300:
                kind = "write" if a.write else f"GET {a.path.split('?')[0]}"
                back.setdefault(kind, a.started + a.seconds - up_at)
        if kinds <= set(back):
            return back
        if time.monotonic() > deadline:
            raise AssertionError(f"not back {RECOVERY_BOUND:.0f} s after the database: {sorted(kinds - set(back))}")
        time.sleep(0.2)


def wait_for_health(chaos: Any, up_at: float) -> float:
    """Seconds from the cluster's start until ``/api/v1/health`` answers 200 again."""
    deadline = time.monotonic() + RECOVERY_BOUND + CONVERGE_SECONDS
    while time.monotonic() < deadline:
        try:
            if chaos.health()[0] == 200:
                return time.monotonic() - up_at
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"/api/v1/health: {chaos.health()}")
