"""The platform as the benches run it: every process for real on this machine, torn down at the end.

    with distributed(workers=2) as platform:      # PostgreSQL + RabbitMQ + gunicorn + nginx
        requests.get(platform.base_url + "/api/v1/health")
    with embedded() as platform:                  # ``parkhub serve`` on SQLite
        ...

:func:`distributed` makes fresh PostgreSQL databases of its own (``parkhub_bench_<random>_<name>``,
dropped at exit) and a RabbitMQ bus namespace of its own (deleted at exit), runs ``parkhub migrate``
and ``parkhub seed``, then starts the gateway and the four service APIs under gunicorn (``parkhub
gateway|api X``), every ``parkhub worker X`` (unless ``relay=False``) and nginx as the edge, with
the config ``gateway.nginx.render`` writes (as compose and the end-to-end tests run it), and waits
until every process answers. ``bare=True`` adds the bare Flask app of :mod:`bench.bare` under the
same gunicorn configuration (``parkhub_cli._gunicorn``), behind nginx at ``/bare`` and directly.

:func:`embedded` runs ``parkhub migrate``, ``parkhub seed`` and ``parkhub serve`` on a ``var/`` of
its own; ``bare=True`` adds the bare app under the server ``parkhub serve`` uses (werkzeug's
threaded server: ``python -m bench.bare --werkzeug``).

Every process is started in a session of its own and stopped by its process group (SIGTERM, then
SIGKILL after 15 s); a watchdog kills them all when the context outlives ``budget_seconds``. Ports
are random in 20000-32000 (outside the kernel's ephemeral range, where clients' ports come from),
each checked by binding it. ``settings`` are ``PARKHUB_*`` variables added to every process's
environment (the edge's rate limit is lifted by default: a load generator is one client).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
POSTGRES_ADMIN_URL = os.environ.get("PARKHUB_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBITMQ_URL = os.environ.get("PARKHUB_BENCH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
SERVICES = ("booking", "consulting", "finance", "notify")
APIS = ("gateway", *SERVICES)
DATABASES = APIS
START_SECONDS = 90.0
"""How long every process may take to answer (two cores shared with other work: generous)."""
BUDGET_SECONDS = 1800.0
"""Past this, the watchdog kills every process of the platform (a bench hangs no machine)."""
RATE_LIMIT = "100000000/minute"
PORTS = (20000, 32000)


def free_port(taken: set[int] | None = None) -> int:
    """A loopback port in 20000-32000 nobody listens on (checked by binding it)."""
    taken = taken if taken is not None else set()
    for _ in range(200):
        port = random.randint(*PORTS)
        if port in taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError("no free port in 20000-32000")


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def children(pid: int) -> list[int]:
    """The direct children of ``pid``, from /proc (every thread's list)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(set(found))


class Platform:
    """The processes of one platform. ``base_url`` is the edge (nginx, or ``parkhub serve``);
    ``direct[name]`` each API's own URL (distributed: ``gateway``, the services, ``bare``; embedded:
    ``embedded`` and ``bare``); ``processes`` what was started, by name (``gateway``,
    ``api-booking``…, ``worker-booking``…, ``nginx``, ``bare``, ``embedded``)."""

    def __init__(self, mode: str, env: dict[str, str], folder: Path) -> None:
        self.mode = mode
        self.env = env
        self.folder = folder
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.base_url = ""
        self.direct: dict[str, str] = {}
        self.database_urls: dict[str, str] = {}
        """Each database's libpq URL (psycopg), distributed mode; embedded: SQLite paths."""
        self.bare_url = ""
        """The bare app through the same edge as the platform (nginx's ``/bare``), when started."""
        self._ports: set[int] = set()

    # -- processes -------------------------------------------------------------------------------

    def port(self) -> int:
        return free_port(self._ports)

    def run(self, name: str, *args: str, timeout: float = 300) -> None:
        """Run a one-shot ``parkhub`` command to its end."""
        with open(self.folder / f"{name}.log", "ab") as log:
            done = subprocess.run(
                [sys.executable, "-m", "parkhub_cli", *args],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            )
        if done.returncode != 0:
            raise RuntimeError(f"parkhub {' '.join(args)} failed:\n{self.tail(name)}")

    def start(self, name: str, command: list[str], **env: str) -> subprocess.Popen[bytes]:
        # A session of its own: gunicorn's master and its workers stop together, by this id.
        with open(self.folder / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                command,
                cwd=REPO,
                env={**self.env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.processes[name] = process
        return process

    def pids(self, name: str) -> list[int]:
        """The process ``name`` and its children (a gunicorn master and its workers; nginx's
        master and its worker), the started one first."""
        process = self.processes[name]
        if process.poll() is not None:
            return []
        return [process.pid, *children(process.pid)]

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM every process group started, then SIGKILL whatever is left after ``timeout``."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        self.kill_all()

    def kill_all(self) -> None:
        """SIGKILL every process group started (the watchdog's and the last resort)."""
        for process in self.processes.values():
            # Even a leader that has exited may leave its group behind (orphaned workers).
            _signal_group(process, signal.SIGKILL)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.folder / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"--- {name} ---\n" + "\n".join(text.splitlines()[-lines:])

    def report(self, lines: int = 10) -> str:
        return "\n".join(self.tail(name, lines) for name in self.processes)

    def wait_for(self, condition: Callable[[], Any], what: str, timeout: float = START_SECONDS) -> Any:
        """Poll ``condition`` until it is true; fails at once when a started process has exited."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.tail(name)}")
            result = condition()
            if result:
                return result
            time.sleep(0.2)
        raise RuntimeError(f"gave up waiting for {what}\n{self.report()}")


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _base_env(folder: Path, settings: dict[str, str]) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARKHUB_")},
        "PYTHONPATH": str(REPO),
        "PARKHUB_VAR_DIR": str(folder / "var"),
        "PARKHUB_RATE_LIMIT": RATE_LIMIT,
        **settings,
    }


@contextmanager
def _watched(platform: Platform, budget_seconds: float) -> Iterator[None]:
    watchdog = threading.Timer(budget_seconds, platform.kill_all)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()
        platform.stop()


def _bare_command(bind: str, workers: int) -> list[str]:
    return [sys.executable, "-m", "bench.bare", "--bind", bind, "--workers", str(workers)]


def nginx_binary() -> str:
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if binary is None:
        raise RuntimeError("nginx is not installed (apt-get install nginx)")
    return binary


def _with_bare(config: str, bare: str) -> str:
    """nginx's config with the bare app as one more upstream (with the same keep-alive pool as the
    services') and an exact location ``/bare``: the baseline goes through the same edge."""
    upstream = f"    upstream parkhub_bare {{\n        server {bare};\n        keepalive 16;\n    }}\n    server {{\n"
    location = "        location = /bare { proxy_pass http://parkhub_bare; }\n"
    head, rest = config.split("    server {\n", 1)
    rest = rest.replace("        location = /healthz", location + "        location = /healthz", 1)
    return head + upstream + rest


@contextmanager
def distributed(
    *,
    workers: int = 2,
    relay: bool = True,
    bare: bool = False,
    budget_seconds: float = BUDGET_SECONDS,
    **settings: str,
) -> Iterator[Platform]:
    """The distributed platform (see the module docstring); ``workers`` gunicorn workers per API;
    ``relay=False`` starts no ``parkhub worker`` (outboxes fill, nothing is delivered)."""
    from gateway.nginx import render
    from parkhub_cli import _topology
    from shared.bus.transport import delete_namespace
    from shared.settings import Settings

    nginx = nginx_binary()
    folder = Path(tempfile.mkdtemp(prefix="parkhub-bench-platform-"))
    # nginx's workers drop root for nginx's default user, which must reach the prefix.
    folder.chmod(0o755)
    prefix = f"parkhub_bench_{uuid.uuid4().hex[:8]}"
    namespace = f"bench-{uuid.uuid4().hex[:8]}"
    server = POSTGRES_ADMIN_URL.split("://", 1)[1].rsplit("/", 1)[0]
    platform = Platform("distributed", {}, folder)
    ports = {name: platform.port() for name in ("edge", *APIS, "bare")}
    platform.direct = {name: f"http://127.0.0.1:{ports[name]}" for name in APIS}
    platform.database_urls = {name: f"postgresql://{server}/{prefix}_{name}" for name in DATABASES}
    platform.env = _base_env(
        folder,
        {
            "PARKHUB_DATABASE_URL_TEMPLATE": f"postgresql+psycopg://{server}/{prefix}_{{name}}",
            "PARKHUB_BUS_URL": RABBITMQ_URL,
            "PARKHUB_BUS_NAMESPACE": namespace,
            "PARKHUB_JWKS_URL": f"{platform.direct['gateway']}/.well-known/jwks.json",
            **{f"PARKHUB_UPSTREAM_{name.upper()}": platform.direct[name] for name in APIS},
            **settings,
        },
    )
    made: list[str] = []
    declared = False
    try:
        with _watched(platform, budget_seconds):
            with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                for name in DATABASES:
                    admin.execute(f'CREATE DATABASE "{prefix}_{name}"')
                    made.append(f"{prefix}_{name}")
            declared = True
            platform.run("migrate", "migrate")
            platform.run("seed", "seed")
            cli = [sys.executable, "-m", "parkhub_cli"]
            bind = {name: f"127.0.0.1:{ports[name]}" for name in ports}
            platform.start("gateway", [*cli, "gateway", "--bind", bind["gateway"], "--workers", str(workers)])
            for service in SERVICES:
                platform.start(
                    f"api-{service}", [*cli, "api", service, "--bind", bind[service], "--workers", str(workers)]
                )
            if relay:
                for name in APIS:
                    platform.start(f"worker-{name}", [*cli, "worker", name])
            config = render(Settings.from_env(platform.env), bind["edge"])
            if bare:
                platform.start("bare", _bare_command(bind["bare"], workers))
                platform.direct["bare"] = f"http://127.0.0.1:{ports['bare']}"
                config = _with_bare(config, bind["bare"])
            (folder / "nginx.conf").write_text(config)
            platform.start("nginx", [nginx, "-c", str(folder / "nginx.conf"), "-p", f"{folder}/", "-e", "stderr"])
            platform.base_url = f"http://127.0.0.1:{ports['edge']}"
            if bare:
                platform.bare_url = f"{platform.base_url}/bare"
            platform.wait_for(
                lambda: (
                    answers(f"{platform.direct['gateway']}/.well-known/jwks.json")
                    and all(answers(f"{platform.direct[s]}/api/v1/{s}/health") for s in SERVICES)
                    and answers(f"{platform.base_url}/healthz")
                    and (not bare or answers(platform.bare_url))
                ),
                "every process to answer",
            )
            yield platform
    finally:
        try:
            if declared:
                from kombu import Connection

                with Connection(RABBITMQ_URL, connect_timeout=5) as connection:
                    delete_namespace(connection, namespace, _topology())
        finally:
            if made:
                with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
                    for name in made:
                        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def embedded(*, bare: bool = False, budget_seconds: float = BUDGET_SECONDS, **settings: str) -> Iterator[Platform]:
    """``parkhub serve`` on a ``var/`` of its own (SQLite, the in-process bus); see the module docstring."""
    folder = Path(tempfile.mkdtemp(prefix="parkhub-bench-embedded-"))
    platform = Platform("embedded", _base_env(folder, settings), folder)
    try:
        with _watched(platform, budget_seconds):
            platform.run("migrate", "migrate")
            platform.run("seed", "seed")
            port = platform.port()
            platform.start("embedded", [sys.executable, "-m", "parkhub_cli", "serve", "--port", str(port)])
            platform.base_url = platform.direct["embedded"] = f"http://127.0.0.1:{port}"
            platform.database_urls = {name: str(folder / "var" / f"{name}.db") for name in DATABASES}
            if bare:
                bare_port = platform.port()
                platform.start("bare", [sys.executable, "-m", "bench.bare", "--werkzeug", "--port", str(bare_port)])
                platform.direct["bare"] = f"http://127.0.0.1:{bare_port}"
                platform.bare_url = f"{platform.direct['bare']}/bare"
            platform.wait_for(
                lambda: answers(f"{platform.base_url}/api/v1/health") and (not bare or answers(platform.bare_url)),
                "parkhub serve to answer",
            )
            yield platform
    finally:
        shutil.rmtree(folder, ignore_errors=True)
