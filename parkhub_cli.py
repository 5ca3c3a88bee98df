"""``parkhub``: run, migrate and operate the platform.

    parkhub serve [--host H --port P]         embedded: everything in one process
    parkhub gateway [--bind H:P]              distributed: the gateway API (gunicorn)
    parkhub api SERVICE [--bind H:P]          distributed: one service's API (gunicorn)
    parkhub worker SERVICE|gateway            distributed: relay, consumers, scheduled jobs
    parkhub migrate                           upgrade every database; declare the bus topology
    parkhub seed                              load the park's demo data (idempotent)
    parkhub dead-letters list|replay SERVICE  staff tools for events a service could not handle
    parkhub keys rotate                       retire the gateway's signing key, make a new one
    parkhub nginx-config [--listen P]         render nginx's config from the route table
    parkhub audit verify|seal [DATABASE...]   check each audit trail's hash chain (exit 1: broken);
                                              seal rows a crashed process left unsealed
    parkhub backup DIR                        embedded: every database, keys and files at one moment
    parkhub restore DIR [--force]             embedded: a checked backup into PARKHUB_VAR_DIR's place

Configuration comes from ``PARKHUB_*`` environment variables (see shared/settings.py).

Metrics (docs/OPERATIONS.md): ``gateway`` and ``api`` answer ``/metrics`` on their own port, their
gunicorn workers adding up through a multiprocess directory (``PROMETHEUS_MULTIPROC_DIR``, made
here when unset); ``worker`` and ``serve`` answer it on ``PARKHUB_METRICS_PORT`` when it is set.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shared.settings import DATABASES, SERVICES, Settings


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from shared.logs import configure_logging

    configure_logging()
    settings = Settings.from_env()
    return int(args.run(settings, args) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parkhub", description="ParkHub, the service platform of Tianfu Life Science Park."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the whole platform in one process (embedded mode)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(run=_serve)

    gateway = commands.add_parser("gateway", help="run the gateway API under gunicorn")
    gateway.add_argument("--bind", default="127.0.0.1:8100")
    gateway.add_argument("--workers", type=int, default=2)
    gateway.set_defaults(run=lambda s, a: _gunicorn("gateway", s, a))

    api = commands.add_parser("api", help="run one service's API under gunicorn")
    api.add_argument("service", choices=SERVICES)
    api.add_argument("--bind", default=None)
    api.add_argument("--workers", type=int, default=2)
    api.set_defaults(run=lambda s, a: _gunicorn(a.service, s, a))

    worker = commands.add_parser("worker", help="run a service's relay, consumers and jobs")
    worker.add_argument("service", choices=DATABASES)
    worker.set_defaults(run=_worker)

    migrate = commands.add_parser("migrate", help="upgrade every database and declare the bus topology")
    migrate.set_defaults(run=_migrate)

    seed = commands.add_parser("seed", help="load the park's demo data (idempotent)")
    seed.set_defaults(run=_seed)

    letters = commands.add_parser("dead-letters", help="list or replay a service's dead letters")
    letters.add_argument("action", choices=("list", "replay"))
    letters.add_argument("service", choices=SERVICES)
    letters.add_argument("--id", type=int, help="replay only this letter (default: all)")
    letters.set_defaults(run=_dead_letters)

    keys = commands.add_parser("keys", help="rotate the gateway's generated signing key")
    keys.add_argument("action", choices=("rotate",))
    keys.set_defaults(run=_keys)

    nginx = commands.add_parser("nginx-config", help="print nginx's config for the distributed mode")
    nginx.add_argument("--listen", default="8080")
    nginx.set_defaults(run=_nginx_config)

    audit = commands.add_parser("audit", help="verify the audit trails' hash chains (or seal leftover rows)")
    audit.add_argument("action", choices=["verify", "seal"])
    audit.add_argument("databases", nargs="*", type=_database, metavar="DATABASE", help="default: all of them")
    audit.set_defaults(run=_audit)

    backup = commands.add_parser("backup", help="embedded: back up every database, the keys and files")
    backup.add_argument("directory", type=Path, help="where the backup goes (absent or empty)")
    backup.set_defaults(run=_backup)

    restore = commands.add_parser("restore", help="embedded: restore a backup (the platform stopped)")
    restore.add_argument("directory", type=Path, help="a directory 'parkhub backup' wrote")
    restore.add_argument("--force", action="store_true", help="replace databases that exist")
    restore.set_defaults(run=_restore)
    return parser


def _app(name: str, settings: Settings) -> Any:
    module = "gateway.app" if name == "gateway" else f"services.{name}.app"
    return importlib.import_module(module).create_app(settings)


def _participant(name: str, settings: Settings) -> Any:
    module = "gateway.worker" if name == "gateway" else f"services.{name}.worker"
    return importlib.import_module(module).participant(settings)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from werkzeug.serving import make_server

    from embedded import EmbeddedPlatform

    platform = EmbeddedPlatform(settings)
    if settings.metrics_port:
        from shared.metrics import serve

        serve(settings.metrics_port, platform.metrics, addr=args.host)
    platform.start()
    server = make_server(args.host, args.port, platform.wsgi, threaded=True)
    signal.signal(signal.SIGTERM, _exit_on_signal)  # shutdown() from here would deadlock serve_forever
    print(f"ParkHub is serving at http://{args.host}:{args.port}  (docs: /docs, health: /api/v1/health)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        platform.stop()
    return 0


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(0)


UPSTREAM_KEEPALIVE_SECONDS = 75
"""How long a gunicorn API keeps an idle keep-alive connection: longer than nginx keeps one to
reuse (60 s), so that nginx, not gunicorn, always closes it."""


def _gunicorn(name: str, settings: Settings, args: argparse.Namespace, load: Callable[[], Any] | None = None) -> int:
    """Serve the app ``name`` (or what ``load`` returns: the benches' bare app, in the very same
    configuration) under gunicorn at ``args.bind`` with ``args.workers`` gthread workers."""
    metrics_dir = _multiprocess_metrics(name)  # before anything imports prometheus-client's values
    from gunicorn.app.base import BaseApplication

    from gateway.routes import DEFAULT_PORTS

    bind = args.bind or f"127.0.0.1:{DEFAULT_PORTS[name]}"

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", bind)
            self.cfg.set("workers", args.workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 8)
            self.cfg.set("timeout", 30)
            self.cfg.set("graceful_timeout", 10)
            # nginx keeps idle upstream connections for 60 s (its default keepalive_timeout) and
            # reuses them: gunicorn must not close one first (its default is 2 s), or a request
            # nginx sends just as gunicorn closes gets a 502, never retried for a POST.
            self.cfg.set("keepalive", UPSTREAM_KEEPALIVE_SECONDS)
            self.cfg.set("proc_name", f"parkhub-{name}")
            self.cfg.set("child_exit", _metrics_child_exit)
            if _spread_connections():
                # Each worker listens on a socket of its own (gunicorn >= 27 binds it in the
                # worker when reuse_port is set) and the kernel hashes every new connection to
                # one of them: keep-alive connections spread over the workers instead of all
                # going to whichever worker won the race on one shared socket.
                self.cfg.set("reuse_port", True)
                self.cfg.set("post_fork", _no_listener_while_booting)
                self.cfg.set("post_worker_init", _listen_once_loaded)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn >= 24 opens a control socket at one path per user ($HOME/.gunicorn):
                # the gateway and every service API on one host would take it from each other.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> Any:
            return load() if load is not None else _app(name, settings)

    master = os.getpid()
    try:
        Application().run()
    finally:
        # A worker is a fork of this process: its exit comes through here too, and must leave the
        # directory the master and the other workers share (gunicorn boots its replacement in it).
        if metrics_dir is not None and os.getpid() == master:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _spread_connections() -> bool:
    """Per-worker listeners (``SO_REUSEPORT``), unless ``PARKHUB_GUNICORN_REUSE_PORT=0`` (the
    benches' before/after switch). Needs gunicorn >= 27: before it, ``reuse_port`` only flagged
    the one socket every worker inherits, which spreads nothing."""
    if os.environ.get("PARKHUB_GUNICORN_REUSE_PORT", "1").strip() in ("0", "false", "no", "off"):
        return False
    from gunicorn import version_info

    return tuple(version_info) >= (27,)


def _no_listener_while_booting(_server: Any, worker: Any) -> None:
    """gunicorn's ``post_fork``: close the listener gunicorn 27 has just bound for this worker. A
    worker still importing and building its app would otherwise take its share of the new
    connections and keep them waiting (seconds on a busy machine) while the other workers idle."""
    for listener in worker.sockets:
        listener.close()
    worker.sockets = []


def _listen_once_loaded(worker: Any) -> None:
    """gunicorn's ``post_worker_init`` (the app is loaded, the accept loop about to start): bind
    this worker's own listener, and stop it on SIGTERM so that no connection is queued on a socket
    nobody accepts from (the kernel goes on hashing new connections to a listener until it closes,
    whether its worker still accepts or not):

    - a reload or a replacement (the master has more children than workers: it forked the new
      ones first): go on serving until a new listener is up on the port, then close this one and
      stop gracefully; at most ``graceful_timeout`` seconds;
    - a shutdown or fewer workers: close this listener at once and stop gracefully.
    A connection queued in the instant a listener closes is still reset by the kernel."""
    from gunicorn import sock

    worker.sockets = sock.create_sockets(worker.cfg, worker.log)
    graceful = signal.getsignal(signal.SIGTERM)
    handed_over = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        if not handed_over.is_set() and _replacements_booting(worker):
            handed_over.set()
            threading.Thread(target=_await_replacement, args=(worker,), daemon=True).start()
            return
        handed_over.set()
        for listener in worker.sockets:
            # The raw socket, not gunicorn's wrapper: the wrapper's fileno() must keep working for
            # the worker's own unregister and close that follow (both accept a closed socket).
            raw = getattr(listener, "sock", None)
            if raw is not None:
                raw.close()
        if callable(graceful):
            graceful(signum, frame)

    signal.signal(signal.SIGTERM, stop)


def _replacements_booting(worker: Any) -> bool:
    """Whether the master has forked more workers than it keeps: new ones replacing this one."""
    children: set[str] = set()
    for task in Path(f"/proc/{worker.ppid}/task").glob("*"):
        try:
            children.update((task / "children").read_text().split())
        except OSError:
            continue
    return len(children) > int(worker.cfg.workers)


def listening_sockets(port: int) -> set[str]:
    """Inodes of the sockets listening on ``port`` (any address), from /proc/net/tcp and tcp6."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(fields[9])
    return found


def _await_replacement(worker: Any) -> None:
    """Wait (while this worker serves on) for a listener on its port that was not there at the
    SIGTERM, or for ``graceful_timeout``; then SIGTERM this worker again: it stops for good."""
    import time

    ports = {listener.getsockname()[1] for listener in worker.sockets if isinstance(listener.getsockname(), tuple)}
    before = set().union(*(listening_sockets(port) for port in ports)) if ports else set()
    deadline = time.monotonic() + float(worker.cfg.graceful_timeout)
    while ports and time.monotonic() < deadline:
        if set().union(*(listening_sockets(port) for port in ports)) - before:
            break
        time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGTERM)


def _multiprocess_metrics(name: str) -> str | None:
    """Give this gunicorn's workers one private, empty multiprocess directory for their metrics
    (a fresh temporary one, removed when the master exits, never when a worker does: gunicorn
    masters on one host or one shared volume never mix their files), unless
    ``PROMETHEUS_MULTIPROC_DIR`` names one already (then its owner keeps it empty between runs).
    Returns the directory made here."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return None
    import tempfile

    path = tempfile.mkdtemp(prefix=f"parkhub-metrics-{name}-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    values = sys.modules.get("prometheus_client.values")
    if values is not None:  # imported already: metrics made from now on write to the directory
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]
    return path


def _metrics_child_exit(_server: Any, worker: Any) -> None:
    """gunicorn's hook: a worker that ended leaves its live gauges out of later scrapes."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def _topology() -> Any:
    """The declared bus topology: every service's consumer table (event type -> handler)."""
    from shared.bus.topology import Topology

    return Topology.of({s: importlib.import_module(f"services.{s}.consumers").HANDLERS for s in SERVICES})


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from shared.bus.worker import ServiceWorker

    participant = _participant(args.service, settings)
    worker = ServiceWorker(settings, participant, topology=_topology())
    if settings.metrics_port:
        from shared.metrics import scrape_registry, serve

        serve(settings.metrics_port, scrape_registry([participant.database]))
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    signal.signal(signal.SIGINT, lambda *_: worker.stop())
    worker.run()
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from migrations import upgrade_all

    upgrade_all(settings)
    if not settings.bus_is_volatile:
        from shared.bus.transport import RECONNECT, connect, declare, retire_service_queues

        with connect(settings) as connection:
            connection.ensure_connection(**{**RECONNECT, "max_retries": 30})
            declare(connection, settings, _topology())
            moved = retire_service_queues(connection, settings, list(SERVICES))
        if moved:
            print(f"bus: {moved} message(s) moved from the old service queues to their handlers' queues", flush=True)
    print("databases migrated: " + ", ".join(DATABASES), flush=True)
    return 0


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from gateway.models import Organisation, User
    from gateway.models import database as gateway_database
    from gateway.seed import seed as seed_identity
    from services.booking.seed import seed as seed_spaces
    from services.consulting.seed import seed as seed_consulting
    from services.finance.seed import seed as seed_finance
    from shared.principal import Principal

    lines = [*seed_identity(settings), *seed_spaces(settings)]
    # Consulting's firms are the gateway's organisations: their ids, by name, from its database.
    # Its demo cases are submitted and worked by the demo users as their tokens name them (sub,
    # org, org_kind, roles, name), and need the firms in consulting's directory: the gateway's
    # organisation events still in its outbox are handed to consulting's inbox, as the bus will.
    gateway_db = gateway_database(settings)
    with gateway_db.reading() as session:
        organisations = {name: org_id for name, org_id in session.execute(select(Organisation.name, Organisation.id))}
        users = {
            user.username: Principal(
                subject=user.subject,
                org_id=user.organisation.id,
                org_kind=user.organisation.kind,
                roles=frozenset(user.roles),
                name=user.display_name,
            )
            for user in session.scalars(select(User))
        }
        outbox = gateway_db.messaging.outbox
        identity_events = list(
            session.scalars(
                select(outbox.c.envelope).where(outbox.c.type.like("identity.organisation.%")).order_by(outbox.c.id)
            )
        )
    lines += seed_consulting(settings, organisations, users, identity_events)
    for line in [*lines, *seed_finance(settings, organisations, users, identity_events)]:
        print(line, flush=True)
    return 0


def _dead_letters(settings: Settings, args: argparse.Namespace) -> int:
    from shared.bus.deadletters import list_dead_letters, replay, replay_all

    inbox = _participant(args.service, settings).inbox
    if args.action == "list":
        letters, total = list_dead_letters(inbox, limit=1000)
        for letter in letters:
            print(
                json.dumps(
                    {
                        "id": letter.id,
                        "event_id": letter.event_id,
                        "type": letter.type,
                        "attempts": letter.attempts,
                        "failed_at": letter.failed_at.isoformat(),
                        "error": letter.error,
                    },
                    ensure_ascii=False,
                )
            )
        print(f"{total} dead letter(s) in {args.service}", file=sys.stderr)
        return 0
    outcomes = {args.id: replay(inbox, args.id, by="cli")} if args.id else replay_all(inbox, by="cli")
    for letter_id, outcome in outcomes.items():
        print(f"{letter_id}: {outcome.value}")
    return 0 if all(o.value != "dead_lettered" for o in outcomes.values()) else 1


def _keys(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.keys import retirement_grace, rotate_signing_key

    old, new = rotate_signing_key(settings)
    print(
        f"signing key {new} made; {old} stays in the JWKS for {retirement_grace(settings)}. "
        "Restart the gateway to sign with the new key."
    )
    return 0


def _nginx_config(settings: Settings, args: argparse.Namespace) -> int:
    from gateway.nginx import render

    print(render(settings, listen=args.listen))
    return 0


def _database(name: str) -> str:
    if name not in DATABASES:
        raise argparse.ArgumentTypeError(f"unknown database {name!r}; known: {', '.join(DATABASES)}")
    return name


def _audit(settings: Settings, args: argparse.Namespace) -> int:
    """``verify``: one line per audit trail (``booking.transitions: 1234 rows, chain intact``), 1 if
    any is broken. ``seal``: seal the rows left unsealed (a process died between commit and seal)."""
    from sqlalchemy import create_engine, pool

    from shared.audit import chained_tables, seal_pending, verify

    broken = False
    for name in args.databases or DATABASES:
        module = "gateway.models" if name == "gateway" else f"services.{name}.models"
        tables = chained_tables(importlib.import_module(module).Base.metadata)
        if not tables:
            if args.databases:  # notify keeps delivery attempts, not an audit trail
                print(f"{name}: no audit trail")
            continue
        engine = create_engine(settings.database_url(name), poolclass=pool.NullPool)
        try:
            if args.action == "seal":
                print(f"{name}: {seal_pending(engine, tables)} row(s) sealed", flush=True)
                continue
            for report in verify(engine, name, tables):
                print(report.line(), flush=True)
                broken = broken or not report.intact
        finally:
            engine.dispose()
    return 1 if broken else 0


def _backup(settings: Settings, args: argparse.Namespace) -> int:
    """The embedded platform at one moment into ``args.directory`` (embedded/backup.py); 1 when refused."""
    from embedded.backup import BackupError, backup

    try:
        manifest = backup(settings, args.directory)
    except BackupError as exc:
        print(f"parkhub backup: {exc}", file=sys.stderr)
        return 1
    revisions = ", ".join(f"{name} at {db['migration_revision']}" for name, db in manifest["databases"].items())
    print(f"backup of {manifest['taken_at']} written to {args.directory}: {revisions}; {len(manifest['files'])} files")
    return 0


def _restore(settings: Settings, args: argparse.Namespace) -> int:
    """A verified backup into the configured var dir (embedded/backup.py); 1 when refused."""
    from embedded.backup import BackupError, restore

    try:
        restored = restore(settings, args.directory, force=args.force)
    except BackupError as exc:
        print(f"parkhub restore: {exc}", file=sys.stderr)
        return 1
    print(
        f"restored {len(restored.databases)} databases and {restored.files} stored files into {settings.var_dir}; "
        "run 'parkhub migrate' before starting the platform"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
