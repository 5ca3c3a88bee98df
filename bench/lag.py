"""Event lag: from the producing service's commit to the consuming service's handler having handled it.

    python -m bench.lag [--rate 200] [--seconds 60] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]
                        [--amqp amqp://guest:guest@127.0.0.1:5672//] [--write docs/PERFORMANCE.md]

The event path is a real one: the gateway registers an organisation (``identity.organisation.registered``,
written to the gateway's outbox in the committing transaction) and notify's directory handler
records it (its inbox row committed with the directory row). A producer thread commits one such
transaction at a time on a fixed schedule (``--rate`` per second for ``--seconds``; it never
skips one, a late commit goes at once) and notes the wall-clock time each commit returned. The
lag of an event is notify's inbox ``handled_at`` (taken in the handler's transaction, just before
its commit) minus that time; both clocks are this machine's, so they compare.

- *distributed*: fresh PostgreSQL databases and a bus namespace of our own on RabbitMQ, the real
  ``parkhub worker gateway`` (its relay, woken by ``NOTIFY``, publishes with confirms) and
  ``parkhub worker notify`` (its consumer handles and acks) as separate processes. The other
  services' queues are declared (``parkhub migrate``) but nobody consumes them: on a 2-core machine
  their workers would only take CPU from the two measured. Skipped when either server is down.
- *embedded*: the platform as ``parkhub serve`` builds it (:class:`embedded.EmbeddedPlatform`:
  every service, SQLite under a var/ of our own, the one bus thread) in this process, the
  producer being a thread beside the bus thread like a request thread of ``parkhub serve``.

Baseline, in the same run at the same pace with bodies of the same size: raw kombu, one producer
thread and one consumer thread on a queue of our own, on the same transport (RabbitMQ: persistent
messages on a durable queue, publisher confirms, prefetch 16, ack after the callback, like the
worker; embedded: kombu's in-memory transport with the bus's 5 ms polling interval). Its lag is
the consumer's callback time minus the moment the producer called ``publish``.

A short warm-up (connections, first queries) is sent and handled before the measured events.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kombu import Connection, Exchange, Queue
from sqlalchemy import MetaData, select

from bench.doc import write_block
from bench.idle import parkhub, reachable, running, wait_until
from shared.bus.tables import define_messaging_tables
from shared.clock import as_utc
from shared.db import Database, database_for, forget_databases
from shared.events.identity import ORGANISATION_REGISTERED
from shared.settings import DATABASES, Settings

REPO = Path(__file__).resolve().parents[1]
BLOCK = "lag"
EVENT = ORGANISATION_REGISTERED.type
CONSUMER = "notify"
TARGETS_MS = {"distributed": 50.0, "embedded": 250.0}
"""p99 targets of issue 12: under 50 ms on RabbitMQ, under 250 ms embedded."""
WARMUP_EVENTS = 20
MEMORY_POLLING_INTERVAL = 0.005
"""The embedded bus's polling interval (shared.bus.transport.connect): the baseline polls alike."""


@dataclass
class Lags:
    """Lags in seconds of the events sent; ``sent`` may exceed ``len(seconds)`` if some never arrived."""

    sent: int
    seconds: list[float]
    relayed: list[float] | None = None
    """ParkHub only: commit → the relay's ``published_at`` (the broker confirmed), per event."""

    def percentile(self, share: float) -> float:
        ordered = sorted(self.seconds)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]

    @property
    def handled(self) -> int:
        return len(self.seconds)

    def relay_summary(self) -> dict[str, float]:
        """The p50/p99/max of :attr:`relayed` (commit → published), empty when not measured."""
        return Lags(self.sent, self.relayed).summary() if self.relayed else {}

    def summary(self) -> dict[str, float]:
        return {
            "p50_ms": self.percentile(0.50) * 1000,
            "p99_ms": self.percentile(0.99) * 1000,
            "max_ms": max(self.seconds, default=float("nan")) * 1000,
            "mean_ms": statistics.fmean(self.seconds) * 1000 if self.seconds else float("nan"),
        }


def organisation(n: int) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "name": f"Lag Biotech {n:06d}", "kind": "tenant", "status": "active", "version": 1}


def paced(rate: float, count: int, send: Callable[[int], None]) -> None:
    """Call ``send(n)`` for n in 0..count-1 at ``start + n / rate``: a fixed schedule, none skipped."""
    start = time.monotonic() + 0.05
    for n in range(count):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        send(n)


# ParkHub ------------------------------------------------------------------------------------------


def produce(database: Database, rate: float, count: int) -> dict[str, float]:
    """Commit ``count`` organisation registrations to ``database``'s outbox at ``rate``; event id →
    the wall-clock time its commit returned."""
    committed: dict[str, float] = {}

    def send(n: int) -> None:
        with database.unit_of_work() as uow:
            event_id = uow.publish(EVENT, organisation(n), subject=None)
            uow.commit()
        committed[event_id] = time.time()

    paced(rate, count, send)
    return committed


def published_times(outbox_db: Database, event_ids: set[str]) -> dict[str, float]:
    outbox = outbox_db.messaging.outbox
    with outbox_db.reading() as session:
        rows = session.execute(
            select(outbox.c.event_id, outbox.c.published_at).where(outbox.c.published_at.is_not(None))
        ).all()
    return {row.event_id: as_utc(row.published_at).timestamp() for row in rows if row.event_id in event_ids}


def handled_times(inbox_db: Database, event_ids: set[str]) -> dict[str, float]:
    inbox = inbox_db.messaging.inbox
    with inbox_db.reading() as session:
        rows = session.execute(select(inbox.c.event_id, inbox.c.handled_at).where(inbox.c.type == EVENT)).all()
    return {row.event_id: as_utc(row.handled_at).timestamp() for row in rows if row.event_id in event_ids}


def wait_handled(inbox_db: Database, event_ids: set[str], timeout: float) -> dict[str, float]:
    """The inbox's ``handled_at`` of ``event_ids`` once all are there (or ``timeout`` passed)."""
    deadline = time.monotonic() + timeout
    while True:
        handled = handled_times(inbox_db, event_ids)
        if len(handled) == len(event_ids) or time.monotonic() > deadline:
            return handled
        time.sleep(0.2)


def measure_parkhub(producer_db: Database, inbox_db: Database, rate: float, seconds: float) -> Lags:
    """Warm up, then ``rate`` × ``seconds`` events; their lags."""
    warm = produce(producer_db, rate, min(WARMUP_EVENTS, max(1, int(rate))))
    wait_handled(inbox_db, set(warm), 60)
    committed = produce(producer_db, rate, max(1, round(rate * seconds)))
    handled = wait_handled(inbox_db, set(committed), 60 + seconds)
    published = published_times(producer_db, set(committed))
    return Lags(
        len(committed),
        [handled[e] - committed[e] for e in committed if e in handled],
        [published[e] - committed[e] for e in committed if e in published],
    )


# Baseline: raw kombu ------------------------------------------------------------------------------


def envelope_size() -> int:
    """Bytes of one of our envelopes as the relay publishes it (the baseline's body size)."""
    from shared.events import Event

    event = Event(type=EVENT, source="/parkhub/gateway", data=organisation(0), version=1)
    return len(json.dumps(event.to_dict(), separators=(",", ":")))


def measure_raw(url: str, rate: float, seconds: float, *, options: dict[str, Any]) -> Lags:
    """Raw kombu publish → consume on ``url``: one producer thread, one consumer thread, a queue of our own."""
    name = f"lag{uuid.uuid4().hex[:8]}.raw"
    durable = not url.startswith("memory")
    queue = Queue(name, exchange=Exchange(""), routing_key=name, durable=durable, auto_delete=False)
    pad = "x" * max(0, envelope_size() - 60)
    count = max(1, round(rate * seconds))
    warm = min(WARMUP_EVENTS, max(1, int(rate)))
    received: dict[int, float] = {}
    ready, done = threading.Event(), threading.Event()

    def consume() -> None:
        with Connection(url, transport_options=options) as connection:

            def on_message(body: Any, message: Any) -> None:
                received[int(body["n"])] = time.time()
                message.ack()
                if len(received) >= warm + count:
                    done.set()

            with connection.Consumer(queue, callbacks=[on_message], accept=["json"], prefetch_count=16):
                ready.set()
                while not done.is_set():
                    try:
                        connection.drain_events(timeout=0.2)
                    except TimeoutError:
                        pass

    with Connection(url, transport_options={**options, "confirm_publish": durable}) as connection:
        queue(connection.default_channel).declare()
        consumer = threading.Thread(target=consume, name="raw-consumer", daemon=True)
        consumer.start()
        ready.wait(30)
        producer = connection.Producer()
        sent: dict[int, float] = {}

        def send(n: int) -> None:
            sent[n] = time.time()
            producer.publish({"n": n, "pad": pad}, routing_key=name, delivery_mode=2 if durable else 1)

        paced(rate, warm, send)
        paced(rate, count, lambda n: send(warm + n))
        done.wait(60 + seconds)
        done.set()
        consumer.join(5)
        queue(connection.default_channel).delete()
    return Lags(count, [received[n] - sent[n] for n in range(warm, warm + count) if n in received])


# Modes --------------------------------------------------------------------------------------------


@contextmanager
def postgres_databases(admin_url: str) -> Iterator[str]:
    """A fresh database per owner; yields the ``PARKHUB_DATABASE_URL_TEMPLATE``; drops them after."""
    import psycopg

    prefix = f"parkhub_lag{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for name in DATABASES:
            admin.execute(f'CREATE DATABASE "{prefix}_{name}"')
    try:
        yield f"postgresql+psycopg://{urlsplit(admin_url).netloc}/{prefix}_{{name}}"
    finally:
        forget_databases()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            for name in DATABASES:
                admin.execute(f'DROP DATABASE IF EXISTS "{prefix}_{name}" WITH (FORCE)')


def delete_namespace(amqp: str, namespace: str) -> None:
    from parkhub_cli import _topology
    from shared.bus import transport

    with Connection(amqp, connect_timeout=5) as connection:
        transport.delete_namespace(connection, namespace, _topology())


def inbox_database(settings: Settings) -> Database:
    return database_for(CONSUMER, settings.database_url(CONSUMER), define_messaging_tables(MetaData()))


def measure_distributed(root: Path, postgres: str, amqp: str, rate: float, seconds: float) -> dict[str, Lags]:
    """Both lags on PostgreSQL + RabbitMQ with the real workers (see the module docstring)."""
    baseline = measure_raw(amqp, rate, seconds, options={})
    with postgres_databases(postgres) as template:
        env = {
            **os.environ,
            "PARKHUB_VAR_DIR": str(root / "var"),
            "PARKHUB_DATABASE_URL_TEMPLATE": template,
            "PARKHUB_BUS_URL": amqp,
            "PARKHUB_BUS_NAMESPACE": f"lag{uuid.uuid4().hex[:8]}",
        }
        env.pop("PARKHUB_METRICS_PORT", None)
        try:
            parkhub(env, "migrate")
            settings = Settings.from_env(env)
            producer_log, consumer_log = root / "worker-gateway.log", root / f"worker-{CONSUMER}.log"
            with (
                running(env, "worker", "gateway", log=producer_log),
                running(env, "worker", CONSUMER, log=consumer_log),
            ):
                heartbeat = root / "var" / "run" / "gateway-worker.heartbeat"
                wait_until(heartbeat.exists, "the gateway worker's relay loop", timeout=90)
                wait_until(
                    # on_consume_ready's line, once every handler queue is consumed (not the start line)
                    lambda: consumer_log.exists() and b"handler queue(s)" in consumer_log.read_bytes(),
                    f"the {CONSUMER} worker's consumer",
                    timeout=90,
                )
                producer_db = importlib.import_module("gateway.models").database(settings)
                ours = measure_parkhub(producer_db, inbox_database(settings), rate, seconds)
        finally:
            delete_namespace(amqp, env["PARKHUB_BUS_NAMESPACE"])
    return {"baseline": baseline, "parkhub": ours}


def measure_embedded(root: Path, rate: float, seconds: float) -> dict[str, Lags]:
    """Both lags in one process on the in-memory transport (see the module docstring)."""
    baseline = measure_raw("memory://", rate, seconds, options={"polling_interval": MEMORY_POLLING_INTERVAL})
    env = {
        **os.environ,
        "PARKHUB_VAR_DIR": str(root / "var"),
        "PARKHUB_BUS_NAMESPACE": f"lag{uuid.uuid4().hex[:8]}",
    }
    for key in ("PARKHUB_DATABASE_URL_TEMPLATE", "PARKHUB_BUS_URL", "PARKHUB_METRICS_PORT"):
        env.pop(key, None)
    parkhub(env, "migrate")
    from embedded import EmbeddedPlatform

    settings = Settings.from_env(env)
    platform = EmbeddedPlatform(settings)
    platform.start()
    try:
        ours = measure_parkhub(platform.gateway_database, inbox_database(settings), rate, seconds)
    finally:
        platform.stop()
        forget_databases()
    return {"baseline": baseline, "parkhub": ours}


# Report -------------------------------------------------------------------------------------------


def report(rate: float, seconds: float, results: dict[str, dict[str, Lags] | None]) -> str:
    labels = {
        "distributed": ("RabbitMQ + PostgreSQL, `parkhub worker gateway` → `parkhub worker notify`", "raw kombu amqp"),
        "embedded": ("`parkhub serve`'s bus thread, SQLite", "raw kombu memory"),
    }
    load = " / ".join(f"{figure:.1f}" for figure in os.getloadavg())
    lines = [
        f"Load average (1, 5, 15 min) at the end: {load} on {os.cpu_count()} cores. "
        f"{rate:g} events/s for {seconds:g} s per mode (commit → handled: notify's inbox `handled_at` minus the "
        "moment the gateway's commit returned; baseline: kombu `publish` called → consumer callback). "
        "ms; p50 / p99 / max; handled: in the inbox by 60 s after the last commit.",
        "",
        "| mode | handled | baseline | ParkHub | of which commit → published | p99 ratio | target p99 | met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for mode, (ours_label, base_label) in labels.items():
        if mode not in results:
            continue
        got = results[mode]
        if got is None:
            lines.append(f"| {ours_label} | not measured: PostgreSQL or RabbitMQ down | | | | | | |")
            continue
        base, ours = got["baseline"].summary(), got["parkhub"].summary()
        target = TARGETS_MS[mode]
        triple = "{p50_ms:.1f} / {p99_ms:.1f} / {max_ms:.1f}".format
        ratio = ours["p99_ms"] / base["p99_ms"] if base["p99_ms"] > 0 else float("nan")
        relay = got["parkhub"].relay_summary()
        lines.append(
            f"| {ours_label} | {got['parkhub'].handled:,} of {got['parkhub'].sent:,} "
            f"| {base_label}: {triple(**base)} | {triple(**ours)} | {triple(**relay) if relay else '-'} "
            f"| ×{ratio:.1f} | < {target:g} ms "
            f"| {'yes' if ours['p99_ms'] < target else 'no'} |"
        )
    return "\n".join(lines)


def write(path: Path, text: str) -> None:
    write_block(path, BLOCK, text, section="## Event lag")


def run(
    rate: float, seconds: float, *, postgres: str, amqp: str, modes: tuple[str, ...] = ("distributed", "embedded")
) -> dict[str, dict[str, Lags] | None]:
    """Measure ``modes``; a distributed run whose servers are down is ``None``."""
    results: dict[str, dict[str, Lags] | None] = {}
    with tempfile.TemporaryDirectory(prefix="parkhub-lag-") as tmp:
        root = Path(tmp)
        if "distributed" in modes:
            results["distributed"] = None
            if reachable(postgres, 5432) and reachable(amqp, 5672):
                (root / "distributed").mkdir()
                results["distributed"] = measure_distributed(root / "distributed", postgres, amqp, rate, seconds)
        if "embedded" in modes:
            (root / "embedded").mkdir()
            results["embedded"] = measure_embedded(root / "embedded", rate, seconds)
    return results


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second (default 200)")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the rate is held (default 60)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--amqp", default="amqp://guest:guest@127.0.0.1:5672//")
    parser.add_argument("--mode", choices=("distributed", "embedded"), action="append", help="default: both")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args(argv)
    modes = tuple(args.mode or ("distributed", "embedded"))
    results = run(args.rate, args.seconds, postgres=args.postgres, amqp=args.amqp, modes=modes)
    text = report(args.rate, args.seconds, results)
    print(text)
    if args.write:
        write(args.write, text)
    return text


if __name__ == "__main__":
    main()
