"""The distributed platform as the end-to-end tests start it: every process started by hand from the
CLI, as compose does (``parkhub migrate`` and ``parkhub seed``, the gateway and the service APIs
under gunicorn, every worker, nginx with the rendered config), on real sockets against this
machine's PostgreSQL (fresh databases) and RabbitMQ (a namespace of the caller's own). A client
talks only to nginx. Every wait is bounded by the caller's budget: past it, a watchdog kills every
process so that nothing hangs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.nginx import render
from shared.settings import SERVICES, Settings
from tests.integration.conftest import BusNamespaces, PostgresDatabases, distributed_env, nginx_binary
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
START_SECONDS = 45.0
WORKERS = ("gateway", *SERVICES)


class Platform:
    """The processes of one distributed platform, and a client that only knows nginx."""

    def __init__(self, env: dict[str, str], logs: Path, deadline: float) -> None:
        self.env = env
        self.logs = logs
        self.deadline = deadline
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.base_url = ""
        self.http = requests.Session()
        self._tokens: dict[str, str] = {}

    # -- processes -------------------------------------------------------------------------

    def run(self, name: str, *args: str) -> None:
        """Run a one-shot ``parkhub`` command to its end."""
        with open(self.logs / f"{name}.log", "wb") as log:
            done = subprocess.run(
                [sys.executable, "-m", "parkhub_cli", *args],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=self.remaining(),
                check=False,
            )
        assert done.returncode == 0, f"parkhub {' '.join(args)} failed:\n{self.tail(name)}"

    def start(self, name: str, command: list[str]) -> None:
        # A session of its own: gunicorn's master and its workers stop together, by this id.
        with open(self.logs / f"{name}.log", "wb") as log:
            self.processes[name] = subprocess.Popen(
                command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
                print(f"{name} had to be killed", file=sys.stderr)
        self.http.close()

    def kill_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def report(self) -> str:
        return "\n".join(f"--- {name} ---\n{self.tail(name, 15)}" for name in self.processes)

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("the distributed test ran out of its time budget\n" + self.report())
        return left

    def wait_for(self, condition: Callable[[], Any], what: str, timeout: float) -> Any:
        deadline = min(time.monotonic() + timeout, self.deadline)
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise AssertionError(f"{name} exited with {process.returncode}:\n{self.tail(name)}")
            result = condition()
            if result:
                return result
            time.sleep(0.2)
        raise AssertionError(f"gave up waiting for {what}\n{self.report()}")

    # -- the client ------------------------------------------------------------------------

    def request(self, method: str, path: str, *, user: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        return self.http.request(method, self.base_url + path, headers=headers, timeout=10, **kwargs)

    def token(self, username: str) -> str:
        if username not in self._tokens:
            response = self.http.post(
                self.base_url + "/api/v1/auth/token",
                data={"grant_type": "password", "username": username, "password": "parkhub-demo"},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            self._tokens[username] = response.json()["access_token"]
        return self._tokens[username]


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@contextmanager
def running_platform(
    postgres_databases: PostgresDatabases,
    bus_namespaces: BusNamespaces,
    tmp_path_factory: pytest.TempPathFactory,
    *,
    budget_seconds: float,
    **settings: str,
) -> Iterator[Platform]:
    """A distributed platform over fresh databases and a bus namespace of its own, with
    ``settings`` (``PARKHUB_*`` variables) added; stopped on exit, killed past ``budget_seconds``."""
    nginx = nginx_binary()
    deadline = time.monotonic() + budget_seconds
    var = tmp_path_factory.mktemp("distributed")
    ports = {name: free_port() for name in ("edge", *WORKERS)}
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("PARKHUB_")},
        **distributed_env(
            postgres_databases.new_set(),
            bus_namespaces.url,
            bus_namespaces.new(),
            var / "var",
            PARKHUB_JWKS_URL=f"http://127.0.0.1:{ports['gateway']}/.well-known/jwks.json",
            **{f"PARKHUB_UPSTREAM_{name.upper()}": f"http://127.0.0.1:{ports[name]}" for name in WORKERS},
            **settings,
        ),
    }
    platform = Platform(env, var, deadline)
    # nginx's workers drop root for nginx's default user, which must reach the prefix: not under
    # pytest's private tmp folder.
    prefix = Path(tempfile.mkdtemp(prefix="parkhub-nginx-"))
    prefix.chmod(0o755)
    watchdog = threading.Timer(budget_seconds + 10, platform.kill_all)
    watchdog.daemon = True
    watchdog.start()
    try:
        platform.run("migrate", "migrate")
        platform.run("seed", "seed")
        cli = [sys.executable, "-m", "parkhub_cli"]
        platform.start("gateway", [*cli, "gateway", "--bind", f"127.0.0.1:{ports['gateway']}"])
        for service in SERVICES:
            platform.start(f"api-{service}", [*cli, "api", service, "--bind", f"127.0.0.1:{ports[service]}"])
        for name in WORKERS:
            platform.start(f"worker-{name}", [*cli, "worker", name])
        config = prefix / "nginx.conf"
        config.write_text(render(Settings.from_env(env), f"127.0.0.1:{ports['edge']}"))
        platform.start("nginx", [nginx, "-c", str(config), "-p", f"{prefix}/", "-e", "stderr"])
        platform.base_url = f"http://127.0.0.1:{ports['edge']}"

        platform.wait_for(
            lambda: (
                answers(f"http://127.0.0.1:{ports['gateway']}/.well-known/jwks.json")
                and all(answers(f"http://127.0.0.1:{ports[s]}/api/v1/{s}/health") for s in SERVICES)
                and answers(f"{platform.base_url}/healthz")
            ),
            "every process to answer",
            START_SECONDS,
        )
        yield platform
    finally:
        watchdog.cancel()
        platform.stop()
        shutil.rmtree(prefix, ignore_errors=True)
