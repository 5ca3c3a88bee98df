"""The fault tests' rig: a steady stream of business operations, the processes to kill and
restart, a probe queue on the bus, and the wait for the platform to converge.

- :class:`Stream` drives, from a few threads over real HTTP as the demo users, organisations
  registered and renamed at the gateway (admin), reservations of rooms that need no approval
  (alice, carol), consulting cases (bob, carol) and finance applications drafted, documented and
  submitted (alice). Every operation is written to a :class:`~tests.chaos.counts.Ledger` with a
  unique marker, so that one that got no answer can be looked up in its database later.
- :class:`Chaos` wraps a distributed :class:`~tests.integration.platform.Platform`: its workers
  restarted with a metrics port each (for the duplicates their inboxes drop), ``kill -9`` of a
  worker, of a gunicorn worker or of a gunicorn master, and the restart of what was killed.
- :class:`Probe` is a durable queue of the test's own bound to every event type (``#``) on the
  namespace's exchange: an independent witness of what the relays published.
- :func:`converge` waits (bounded) until every event is everywhere, then returns the counts.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from kombu import Connection, Exchange, Queue

from services.consulting.seed import demo_pdf
from shared.clock import PARK_TZ
from shared.settings import SERVICES
from tests.chaos.counts import Counts, Databases, Ledger, Operation, resolve, scrape_duplicates, watermarks
from tests.integration.conftest import BusNamespaces
from tests.integration.platform import WORKERS, Platform, running_platform
from tests.ports import free_port
from tests.servers import PostgresDatabases

PASSWORD = "parkhub-demo"
RATE_LIMIT = "1000000/minute"
"""The stream is one client hammering; the edge's per-client limit is not under test here."""
SLOTS_A_DAY = 16
"""Half-hour slots from 09:00 to 17:00."""
FIRST_DAY = 20
"""Reservations start this many days ahead: past the demo seed's bookings, within the 90-day horizon."""


# -- the stream ------------------------------------------------------------------------------


class Stream:
    """Business operations in a loop from ``threads`` threads until :meth:`stop`; see the module
    docstring. ``pause`` seconds between two operations of a thread keep the load steady."""

    KINDS = ("organisation", "reservation", "case", "application")

    def __init__(self, base_url: str, tag: str, *, threads: int = 2, pause: float = 0.05) -> None:
        self.base_url = base_url
        self.tag = tag
        self.threads = threads
        self.pause = pause
        self.ledger = Ledger()
        self._stop = threading.Event()
        self._numbers = itertools.count()
        self._slots = itertools.count()
        self._workers: list[threading.Thread] = []
        self.errors: list[str] = []
        setup = requests.Session()
        self.tokens = {user: self._token(setup, user) for user in ("admin", "alice", "bob", "carol")}
        self.rooms = self._rooms(setup)
        self.item = self._legal_consultation(setup)
        self.product = self._lease(setup)
        setup.close()

    # -- set-up, while everything is up --------------------------------------------------------

    def _token(self, http: requests.Session, user: str) -> str:
        form = {"grant_type": "password", "username": user, "password": PASSWORD}
        answer = http.post(f"{self.base_url}/api/v1/auth/token", data=form, timeout=10)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])

    def _get(self, http: requests.Session, user: str, path: str) -> Any:
        answer = http.get(f"{self.base_url}{path}", headers=self._auth(user), timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def _rooms(self, http: requests.Session) -> list[str]:
        spaces = self._get(http, "alice", "/api/v1/booking/spaces?page_size=200")["items"]
        rooms = [s["id"] for s in spaces if s["kind"] == "conference_room" and s["approval"]["mode"] == "never"]
        assert rooms, "the seed has no conference room without approval"
        return rooms

    def _legal_consultation(self, http: requests.Session) -> str:
        items = self._get(http, "bob", "/api/v1/consulting/items")
        return next(
            i["id"] for i in (items["items"] if isinstance(items, dict) else items) if i["code"] == "legal_consultation"
        )

    def _lease(self, http: requests.Session) -> str:
        products = self._get(http, "alice", "/api/v1/finance/products")["items"]
        return next(p["id"] for p in products if p["code"] == "lab_equipment_lease")

    def refresh_tokens(self) -> None:
        """New tokens for every user (after the signer restarted: the old ones may still do)."""
        with requests.Session() as http:
            self.tokens = {user: self._token(http, user) for user in self.tokens}

    def _auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    # -- running -------------------------------------------------------------------------------

    def start(self) -> None:
        for n in range(self.threads):
            thread = threading.Thread(target=self._run, args=(n,), name=f"stream-{n}", daemon=True)
            thread.start()
            self._workers.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(30)
            assert not thread.is_alive(), "a stream thread did not stop"

    def wait_for_operations(self, count: int, timeout: float) -> None:
        """Until ``count`` operations have an answer (any), at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while len(self.ledger.operations) < count:
            assert time.monotonic() < deadline, f"the stream made {len(self.ledger.operations)} operations only"
            time.sleep(0.1)

    def _run(self, offset: int) -> None:
        http = requests.Session()
        kinds = itertools.cycle(self.KINDS[offset % len(self.KINDS) :] + self.KINDS[: offset % len(self.KINDS)])
        try:
            while not self._stop.is_set():
                kind = next(kinds)
                try:
                    getattr(self, f"_{kind}")(http, next(self._numbers))
                except Exception as exc:  # noqa: BLE001 - a bug of the rig must fail the test, not hang it
                    self.errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                    return
                unanswered = self.ledger.operations and self.ledger.operations[-1].outcome == "unknown"
                self._stop.wait(self.pause * 5 if unanswered else self.pause)
        finally:
            http.close()

    def _call(self, http: requests.Session, op: Operation, method: str, path: str, **kwargs: Any) -> Any:
        """One request of ``op``: its answer when 2xx; else the op's outcome is set and None."""
        try:
            answer = http.request(method, f"{self.base_url}{path}", timeout=15, **kwargs)
        except requests.RequestException as exc:
            op.outcome, op.refusal = "unknown", f"{type(exc).__name__} {method} {path.split('/')[3]}"
            return None
        if answer.status_code < 300:
            return answer
        op.outcome = "refused" if answer.status_code < 500 else "unknown"
        problem = answer.json() if answer.headers.get("Content-Type", "").endswith("json") else {}
        kind = str(problem.get("type", "")).rsplit("/", 1)[-1]
        op.refusal = f"{answer.status_code} {kind} {method} {path.split('/')[3]}"
        return None

    def _organisation(self, http: requests.Session, n: int) -> None:
        registered = Operation("identity.organisation.registered", f"Chaos {self.tag} Biotech {n}")
        self.ledger.operations.append(registered)
        body = {"name": registered.marker, "kind": "tenant"}
        answer = self._call(http, registered, "POST", "/api/v1/organisations", json=body, headers=self._auth("admin"))
        if answer is None:
            return
        registered.outcome, registered.subject_id = "ok", answer.json()["id"]
        renamed = Operation(
            "identity.organisation.updated", f"{registered.marker} renamed", subject_id=registered.subject_id
        )
        self.ledger.operations.append(renamed)
        headers = {**self._auth("admin"), "If-Match": answer.headers["ETag"]}
        path = f"/api/v1/organisations/{registered.subject_id}"
        if self._call(http, renamed, "PATCH", path, json={"name": renamed.marker}, headers=headers) is not None:
            renamed.outcome = "ok"

    def _reservation(self, http: requests.Session, n: int) -> None:
        op = Operation("booking.reservation.confirmed", f"Chaos {self.tag} meeting {n}")
        self.ledger.operations.append(op)
        # One slot each, the rooms in turn: never two at once for one tenant (that is a 409).
        slot = next(self._slots)
        room = self.rooms[slot % len(self.rooms)]
        day = datetime.now(PARK_TZ).date() + timedelta(days=FIRST_DAY + slot // SLOTS_A_DAY)
        start = datetime(day.year, day.month, day.day, 9, tzinfo=PARK_TZ) + timedelta(minutes=30 * (slot % SLOTS_A_DAY))
        body = {
            "space_id": room,
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=30)).isoformat(),
            "title": op.marker,
            "attendees": 4,
        }
        user = ("alice", "carol")[n % 2]
        answer = self._call(http, op, "POST", "/api/v1/booking/reservations", json=body, headers=self._auth(user))
        if answer is not None:
            op.outcome, op.subject_id = "ok", answer.json()["id"]

    def _case(self, http: requests.Session, n: int) -> None:
        op = Operation("consulting.case.submitted", f"Chaos {self.tag} question {n}")
        self.ledger.operations.append(op)
        body = {
            "item_id": self.item,
            "subject": op.marker,
            "description": "Asked while a fault test injects its fault.",
            "answers": {"question": "Does the event reach every subscriber?"},
        }
        user = ("bob", "carol")[n % 2]
        answer = self._call(http, op, "POST", "/api/v1/consulting/cases", json=body, headers=self._auth(user))
        if answer is not None:
            op.outcome, op.subject_id = "ok", answer.json()["id"]

    def _application(self, http: requests.Session, n: int) -> None:
        op = Operation("finance.application.submitted", f"Chaos {self.tag} lease {n}")
        self.ledger.operations.append(op)
        auth = self._auth("alice")
        body = {"product_id": self.product, "amount": "300000.00", "term_months": 24, "purpose": op.marker}
        draft = self._call(http, op, "POST", "/api/v1/finance/applications", json=body, headers=auth)
        if draft is None:
            return
        op.subject_id = draft.json()["id"]
        path = f"/api/v1/finance/applications/{op.subject_id}"
        for doc_type in ("business_licence", "financial_statements", "equipment_quote"):
            files = {"file": (f"{doc_type}.pdf", demo_pdf(doc_type), "application/pdf")}
            if (
                self._call(
                    http, op, "POST", f"{path}/documents", data={"doc_type": doc_type}, files=files, headers=auth
                )
                is None
            ):
                op.outcome = "unknown"  # a draft is no submission: read later whether it was submitted
                return
        shown = self._call(http, op, "GET", path, headers=auth)
        if shown is None:
            op.outcome = "unknown"
            return
        submitted = self._call(
            http, op, "POST", f"{path}/submit", json={}, headers={**auth, "If-Match": shown.headers["ETag"]}
        )
        if submitted is not None:
            op.outcome = "ok"


# -- the probe queue -------------------------------------------------------------------------


class Probe:
    """A durable queue bound to every routing key of ``<namespace>.events``; :meth:`drain` takes
    what arrived and keeps the copies per event id (cumulative)."""

    def __init__(self, url: str, namespace: str) -> None:
        self.url = url
        exchange = Exchange(f"{namespace}.events", type="topic", durable=True)
        self.queue = Queue(f"{namespace}.chaos-probe", exchange=exchange, routing_key="#", durable=True)
        self.copies: Counter[str] = Counter()

    def declare(self) -> None:
        with Connection(self.url, connect_timeout=5) as connection:
            self.queue(connection.default_channel).declare()

    def drain(self) -> Counter[str]:
        """Everything waiting now (the broker must be up)."""
        with Connection(self.url, connect_timeout=5) as connection:
            bound = self.queue(connection.default_channel)
            while (message := bound.get(no_ack=False)) is not None:
                self.copies[json.loads(message.body)["id"]] += 1
                message.ack()
        return self.copies

    def delete(self) -> None:
        try:
            with Connection(self.url, connect_timeout=5) as connection:
                self.queue(connection.default_channel).delete()
        except Exception:  # noqa: BLE001 - a private node may be gone already; nothing to clean then
            pass


# -- the distributed platform under chaos ----------------------------------------------------


class Chaos:
    """One distributed platform, its databases, its probe and what kills and restarts its
    processes. Names are the platform's: ``worker-<name>``, ``gateway``, ``api-<service>``."""

    def __init__(self, platform: Platform, probe: Probe) -> None:
        self.platform = platform
        self.probe = probe
        template = platform.env["PARKHUB_DATABASE_URL_TEMPLATE"]
        self.databases = Databases(lambda name: template.format(name=name))
        self.metrics_ports: dict[str, int] = {}
        self.marks: dict[str, int] = {}

    # -- processes -------------------------------------------------------------------------------

    def start(self, name: str, command: list[str], **env: str) -> None:
        """Start ``name`` again (its log appended to), in a session of its own as the platform does."""
        with open(self.platform.logs / f"{name}.log", "ab") as log:
            self.platform.processes[name] = subprocess.Popen(
                command,
                cwd=Path(__file__).resolve().parents[2],
                env={**self.platform.env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def command(self, name: str) -> list[str]:
        return [str(part) for part in self.platform.processes[name].args]  # type: ignore[union-attr]

    def restart_worker(self, name: str) -> None:
        """Start worker ``name`` (``worker-<x>``) again on its metrics port."""
        self.start(name, self.command(name), PARKHUB_METRICS_PORT=str(self.metrics_ports[name]))

    def with_metrics(self) -> None:
        """Stop every worker gracefully and start it again with a metrics port of its own."""
        names = [f"worker-{w}" for w in WORKERS]
        for name in names:
            os.killpg(self.platform.processes[name].pid, signal.SIGTERM)
        for name in names:
            self.platform.processes[name].wait(20)
            self.metrics_ports[name] = free_port()
            self.restart_worker(name)

    def kill(self, name: str) -> float:
        """``kill -9`` the process started as ``name`` (a worker, or a gunicorn master); the moment."""
        process = self.platform.processes[name]
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        return time.monotonic()

    def gunicorn_workers(self, name: str) -> list[int]:
        pid = self.platform.processes[name].pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def kill_gunicorn_worker(self, name: str) -> tuple[int, float]:
        """``kill -9`` one of ``name``'s gunicorn workers (its master starts another)."""
        [victim, *_] = self.gunicorn_workers(name)
        os.kill(victim, signal.SIGKILL)
        return victim, time.monotonic()

    def restart_apis(self, names: list[str]) -> dict[str, tuple[float, float]]:
        """Start killed gunicorn masters again, each once its port is free (orphaned workers
        serve on until they see their parent gone, then finish their requests and leave); per
        name, the seconds until its port was free and until the new master answered."""
        started = time.monotonic()
        ports = {name: self.port_of(name) for name in names}
        free = {}
        for name, port in ports.items():  # the orphans of all of them leave at the same time
            wait_until(lambda port=port: not listening(port), f"{name}'s old workers to let go of :{port}", 30)
            free[name] = time.monotonic() - started
            self.start(name, self.command(name))
        answered = {}
        for name, port in ports.items():
            path = "/.well-known/jwks.json" if name == "gateway" else f"/api/v1/{name.removeprefix('api-')}/health"
            wait_until(lambda url=f"http://127.0.0.1:{port}{path}": answers(url), f"{name} to answer again", 30)
            answered[name] = time.monotonic() - started
        return {name: (free[name], answered[name]) for name in names}

    def port_of(self, name: str) -> int:
        command = self.command(name)
        return int(command[command.index("--bind") + 1].rsplit(":", 1)[1])

    def metrics_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}/metrics" for port in self.metrics_ports.values()]

    # -- counting --------------------------------------------------------------------------------

    def mark(self) -> None:
        """Before the stream: the outbox watermarks (the probe is declared already)."""
        self.marks = watermarks(self.databases)

    def health(self) -> tuple[int, dict[str, Any]]:
        answer = requests.get(f"{self.platform.base_url}/api/v1/health", timeout=10)
        return answer.status_code, answer.json()

    def converge(self, ledger: Ledger, timeout: float) -> tuple[Counts, float]:
        return converge(ledger, self.databases, self.marks, timeout, probe=self.probe, metrics=self.metrics_urls())


def converge(
    ledger: Ledger,
    databases: Databases,
    marks: dict[str, int],
    timeout: float,
    *,
    probe: Probe | None,
    metrics: list[str],
) -> tuple[Counts, float]:
    """Resolve the unknown operations by reading, then wait (at most ``timeout`` seconds) until
    every event is confirmed, in every subscriber's inbox and on the probe; the counts (their
    problems, if the wait ran out) and the seconds it took."""
    started = time.monotonic()
    resolve(ledger, databases)
    deadline = started + timeout
    while True:
        copies = probe.drain() if probe is not None else None
        counts = Counts.read(ledger, databases, marks, probe=copies, dropped=None)
        if not counts.problems() or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    took = time.monotonic() - started
    counts.dropped = scrape_duplicates(metrics)
    return counts, took


@contextmanager
def chaos_platform(
    postgres_databases: PostgresDatabases,
    bus_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    *,
    budget_seconds: float,
) -> Iterator[Chaos]:
    """A distributed platform on ``bus_url`` (the machine's broker, or a node of the test's own)
    with fresh databases and a namespace of its own, its workers on metrics ports, a probe
    declared; the probe and the namespace removed at the end."""
    namespaces = BusNamespaces(bus_url)
    try:
        with running_platform(
            postgres_databases,
            namespaces,
            tmp_path_factory,
            budget_seconds=budget_seconds,
            PARKHUB_RATE_LIMIT=RATE_LIMIT,
        ) as platform:
            chaos = Chaos(platform, Probe(bus_url, platform.env["PARKHUB_BUS_NAMESPACE"]))
            try:
                chaos.probe.declare()
                chaos.with_metrics()
                yield chaos
            finally:
                chaos.databases.dispose()
                chaos.probe.delete()
    finally:
        try:
            namespaces.delete_all()
        except Exception:  # noqa: BLE001 - a private node may be gone already: nothing to clean then
            pass


# -- small helpers ---------------------------------------------------------------------------


REPO = Path(__file__).resolve().parents[2]
SERVE_START_SECONDS = 45.0
"""How long ``parkhub serve`` may take to answer (migrate and seed are done before)."""


def wait_until(condition: Callable[[], Any], what: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")


def serve_embedded(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """``parkhub serve`` on ``port`` in a session of its own, once it answers health (killed if it
    never does); the caller stops it."""
    with log.open("ab") as out:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "parkhub_cli", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(
            lambda: process.poll() is not None or answers(f"http://127.0.0.1:{port}/api/v1/health"),
            "parkhub serve to answer",
            SERVE_START_SECONDS,
        )
    except AssertionError:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    assert process.poll() is None, log.read_text(errors="replace")[-3000:]
    return process


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def summary(counts: Counts, ledger: Ledger) -> str:
    outcomes = ledger.outcomes()
    refusals = Counter(op.refusal for op in ledger.operations if op.refusal)
    return (
        f"{len(ledger.operations)} operations ({dict(outcomes)}, not 2xx: {dict(refusals)});"
        f" problems: {counts.problems()[:10]}"
    )


__all__ = ["SERVICES", "Chaos", "Probe", "Stream", "chaos_platform", "summary", "wait_until"]
