"""A worker outlives a RabbitMQ outage: it reconnects for as long as it takes, its relay recognises the
outage (it ends each pass and tries again every 0.1-1 s, blaming no row), both resume within about
a second of the broker's return, nothing is lost, and health reports the outage while it lasts.
A broker that blocks publishers (a resource alarm) costs a relay pass seconds, not forever.

The broker here is a RabbitMQ node of the test's own (its own ports, data and logs in a temporary
folder, no plugins), started as a child process and killed with -9: the machine's main node is
never touched. notify's database is on this machine's PostgreSQL.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kombu import Connection
from sqlalchemy import text

from migrations import upgrade
from shared.bus.inbox import Inbox, RetryPolicy
from shared.bus.outbox import Relay, RelayPass
from shared.bus.runtime import Participant
from shared.bus.topology import Topology
from shared.bus.transport import PUBLISH_TIMEOUT_SECONDS, KombuPublisher, broker_health, connect, declare
from shared.bus.worker import ServiceWorker
from shared.db import Database, UnitOfWork
from shared.events import Event
from shared.settings import Settings
from tests.bus.conftest import notify_database
from tests.integration.conftest import distributed_settings
from tests.integration.test_rabbitmq_transport import wait_for
from tests.ports import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]

REGISTERED = "identity.organisation.registered"
TOPOLOGY = Topology.of({"notify": [REGISTERED]})
BOOT_SECONDS = 90.0
DOWN_SECONDS = 12.0
"""Longer than the old consumer's first retries (2 + 4 s), far shorter than its whole budget
(10 retries, about 110 s): the old worker resumed seconds late, or never; this one must not care."""


class PrivateRabbitMQ:
    """A RabbitMQ node of this test's own; see the module docstring."""

    def __init__(self, root: Path, config: str = "") -> None:
        self.root = root
        self.port = free_port()
        self.dist_port = free_port()
        self.name = f"parkhub-test-{uuid.uuid4().hex[:8]}@localhost"
        self.process: subprocess.Popen[bytes] | None = None
        (root / "plugins").write_text("")  # no management or prometheus listeners to clash
        (root / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n{config}")
        if os.geteuid() == 0:  # rabbitmq-server drops to the rabbitmq user, who must write here
            for path in (root, *root.iterdir()):
                shutil.chown(path, "rabbitmq", "rabbitmq")

    @property
    def pid_file(self) -> Path:
        """Where the node writes the id of its Erlang VM, which runs in a session of its own
        (``su`` starts one), so killing the wrapper's process group would leave it running."""
        return self.root / "mnesia" / "node.pid"

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self) -> float:
        """Start the node; return the moment it accepts AMQP connections."""
        env = {
            **os.environ,
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq.conf"),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.root / "plugins"),
            "RABBITMQ_PID_FILE": str(self.pid_file),
        }
        with open(self.root / "server.log", "ab") as log:
            self.process = subprocess.Popen(
                ["rabbitmq-server"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + BOOT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if self.accepts_connections():
                return time.monotonic()
            time.sleep(0.1)
        self.kill()
        raise AssertionError("the private RabbitMQ node did not start:\n" + self.log_tail())

    def accepts_connections(self) -> bool:
        """One AMQP handshake, no retry (kombu's retries would sleep 2 s between tries, and the
        moment the node came back would be seen that much late)."""
        try:
            with Connection(self.url, connect_timeout=1) as probe:
                probe.ensure_connection(max_retries=0)
        except Exception:  # noqa: BLE001 - not (yet) serving
            return False
        return True

    def kill(self) -> None:
        """Kill the node's VM by its id (then its wrapper); wait until its port is closed."""
        for vm in self._vms():
            try:
                os.kill(vm, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.pid_file.unlink(missing_ok=True)
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(30)
        self.process = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            except OSError:
                return
            time.sleep(0.05)
        raise AssertionError(f"the private RabbitMQ node still listens on {self.port}")

    def _vms(self) -> set[int]:
        """The node's Erlang VM: by its pid file, and by its unique node name in /proc (the pid
        file may not be written yet when a test kills a booting node)."""
        found = set()
        if self.pid_file.exists() and (pid := self.pid_file.read_text().strip()).isdigit():
            found.add(int(pid))
        marker = f"RABBITMQ_NODENAME={self.name}".encode()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if marker in (entry / "environ").read_bytes().split(b"\0"):
                        found.add(int(entry.name))
                except OSError:
                    continue
        return found

    def log_tail(self) -> str:
        path = self.root / "server.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def private_node(config: str = "") -> Iterator[PrivateRabbitMQ]:
    if shutil.which("rabbitmq-server") is None:
        if os.environ.get("PARKHUB_REQUIRE_RABBITMQ"):
            pytest.fail("rabbitmq-server is not installed, and PARKHUB_REQUIRE_RABBITMQ is set", pytrace=False)
        pytest.skip("needs rabbitmq-server to run a node of the test's own")
    # Not under tmp_path: pytest's folders are private to this user, and the node runs as rabbitmq.
    root = Path(tempfile.mkdtemp(prefix="parkhub-rabbit-"))
    node = PrivateRabbitMQ(root, config)
    try:
        node.start()
        yield node
    finally:
        node.kill()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def rabbit(rabbitmq_url: str) -> Iterator[PrivateRabbitMQ]:
    yield from private_node()


@pytest.fixture
def blocking_rabbit(rabbitmq_url: str) -> Iterator[PrivateRabbitMQ]:
    """A node whose disk alarm is on from the start: it accepts connections and blocks every one
    that publishes, as RabbitMQ does under a memory or disk alarm."""
    yield from private_node("disk_free_limit.absolute = 100000GB\n")


@pytest.fixture
def settings(postgres_url_template: str, rabbit: PrivateRabbitMQ, tmp_path: Path) -> Settings:
    upgrade("notify", postgres_url_template.format(name="notify"))
    return distributed_settings(postgres_url_template, rabbit.url, f"outage{uuid.uuid4().hex[:6]}", tmp_path / "var")


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    db = notify_database(settings)
    with db.unit_of_work() as uow:
        uow.session.execute(text("CREATE TABLE outage_effects (id SERIAL PRIMARY KEY, event_id TEXT NOT NULL)"))
        uow.commit()
    yield db
    with db.unit_of_work() as uow:
        uow.session.execute(text("DROP TABLE outage_effects"))
        uow.session.execute(text("TRUNCATE outbox, inbox, dead_letters"))
        uow.commit()


def handled(db: Database) -> list[str]:
    with db.reading() as session:
        return [r.event_id for r in session.execute(text("SELECT event_id FROM outage_effects ORDER BY id"))]


def record(event: Event, *, uow: UnitOfWork) -> None:
    uow.session.execute(text("INSERT INTO outage_effects (event_id) VALUES (:id)"), {"id": event.id})


def publish(db: Database, name: str) -> str:
    data: dict[str, Any] = {"id": str(uuid.uuid4()), "name": name, "kind": "tenant", "status": "active", "version": 1}
    with db.unit_of_work() as uow:
        event_id = uow.publish(REGISTERED, data)
        uow.commit()
    return event_id


def attempts(db: Database) -> list[int]:
    with db.reading() as session:
        return list(session.execute(text("SELECT attempts FROM outbox ORDER BY id")).scalars())


class _RecordedPasses:
    """Wraps a worker's relay: when each pass started and whether it found the broker down."""

    def __init__(self, relay: Relay) -> None:
        self.passes: list[tuple[float, bool]] = []
        self._run_pass = relay.run_pass
        relay.run_pass = self  # type: ignore[method-assign]

    def __call__(self) -> RelayPass:
        started = time.monotonic()
        done = self._run_pass()
        self.passes.append((started, done.broker_down))
        return done

    def between(self, start: float, end: float) -> list[tuple[float, bool]]:
        return [(at, down) for at, down in self.passes if start <= at <= end]


def test_a_worker_rides_out_a_broker_outage_and_resumes_within_seconds(
    settings: Settings, db: Database, rabbit: PrivateRabbitMQ
) -> None:
    with connect(settings) as connection:
        declare(connection, settings, TOPOLOGY)
    inbox = Inbox("notify", db, {REGISTERED: record}, retry=RetryPolicy(attempts=3, base_seconds=0.05))
    worker = ServiceWorker(settings, Participant("notify", db, inbox), topology=TOPOLOGY)
    relay = _RecordedPasses(worker.relay)
    thread = threading.Thread(target=worker.run, name="notify-worker", daemon=True)
    thread.start()
    try:
        before = publish(db, "Before the outage")
        wait_for(lambda: handled(db) == [before], "the first event")

        rabbit.kill()
        killed = time.monotonic()
        wait_for(lambda: worker.broker == "down", "the worker to notice the outage")
        probe = time.monotonic()
        assert broker_health(settings)["status"] == "down"  # what the gateway's health reports
        health_seconds = time.monotonic() - probe
        during = publish(db, "During the outage")
        time.sleep(DOWN_SECONDS)  # the outage itself: the condition under test is its length
        assert thread.is_alive(), "the worker gave up"
        assert handled(db) == [before]
        assert time.time() - worker.heartbeat.stat().st_mtime < 5  # the relay loop is alive too
        assert attempts(db) == [0, 0], "a row was blamed for the outage"
        outage = relay.between(killed + 2, time.monotonic())  # the loop's back-off has reached 1 s

        back = rabbit.start()
        wait_for(lambda: worker.broker == "ok", "the consumer to resume", timeout=10)
        resumed = time.monotonic() - back
        wait_for(lambda: during in handled(db), "the event published during the outage", timeout=10)
        caught_up = time.monotonic() - back
        after = publish(db, "After the outage")
        wait_for(lambda: after in handled(db), "an event after the outage")
        assert broker_health(settings)["status"] == "ok"
    finally:
        worker.stop()
        thread.join(15)
    gaps = [b - a for (a, _), (b, _) in zip(outage, outage[1:], strict=False)]
    print(
        f"\nduring the outage: {len(outage)} relay passes, every one broker_down, gaps"
        f" {min(gaps):.2f}-{max(gaps):.2f} s; health answered down in {health_seconds:.2f} s;"
        f" consumer resumed {resumed:.2f} s and the outbox caught up {caught_up:.2f} s after the broker returned"
    )
    # The relay recognised the outage: every pass ended at once, and the loop tried again every
    # second at most (0.1 s doubling to 1 s), blaming no row (no attempts above).
    assert outage and all(down for _, down in outage), outage
    assert all(0.09 <= gap <= 1.5 for gap in gaps), gaps
    assert health_seconds < 0.5
    assert resumed < 1.5
    assert caught_up < 2.0  # the relay's next try is at most a second away
    assert handled(db) == [before, during, after]  # nothing lost, nothing twice


def test_a_relay_pass_gives_up_on_a_broker_that_blocks_publishers_within_seconds(
    blocking_rabbit: PrivateRabbitMQ, tmp_path: Path
) -> None:
    template = f"sqlite:///{tmp_path}/{{name}}.db"
    upgrade("notify", template.format(name="notify"))
    settings = distributed_settings(template, blocking_rabbit.url, f"blocked{uuid.uuid4().hex[:6]}", tmp_path)
    with connect(settings) as connection:
        declare(connection, settings, TOPOLOGY)  # declaring is allowed; publishing is blocked
    db = notify_database(settings)
    publish(db, "Published Under An Alarm")
    publisher = KombuPublisher(settings)
    relay = Relay(db, publisher, durable=True, subscribed=TOPOLOGY.subscribed_types)
    outcome: list[RelayPass] = []
    started = time.monotonic()
    passing = threading.Thread(target=lambda: outcome.append(relay.run_pass()), daemon=True)
    passing.start()
    passing.join(4 * PUBLISH_TIMEOUT_SECONDS + 10)  # bounded: before, the confirm was awaited forever
    elapsed = time.monotonic() - started
    assert not passing.is_alive(), f"the relay pass still waits for a confirm after {elapsed:.0f} s"
    publisher.close()
    print(f"\nblocked broker: the relay pass ended after {elapsed:.2f} s")
    [done] = outcome
    assert done.broker_down and done.published == 0
    assert attempts(db) == [0]
    assert elapsed < 2 * PUBLISH_TIMEOUT_SECONDS + 3
