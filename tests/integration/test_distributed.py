"""The distributed mode end to end: every process started by hand from the CLI, as compose does.

``parkhub migrate`` and ``parkhub seed``, then the gateway and the four service APIs under
gunicorn, the five workers, and nginx with the rendered config, all on real sockets against this
machine's PostgreSQL (fresh databases) and RabbitMQ (a namespace of this test's own). A client
talks only to nginx. Every wait is bounded and the module watches its own budget: past it, every
process is killed so that nothing hangs.
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
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from gateway.nginx import render
from shared.settings import SERVICES, Settings
from tests.integration.conftest import BusNamespaces, PostgresDatabases, distributed_env, free_port, nginx_binary

pytestmark = [pytest.mark.postgres, pytest.mark.rabbitmq, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
MODULE_BUDGET_SECONDS = 100.0
START_SECONDS = 45.0
PROPAGATION_SECONDS = 10.0
MAX_BODY_BYTES = 64 * 1024
PROBLEM = "application/problem+json"
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


@pytest.fixture(scope="module")
def platform(
    postgres_databases: PostgresDatabases, bus_namespaces: BusNamespaces, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    nginx = nginx_binary()
    deadline = time.monotonic() + MODULE_BUDGET_SECONDS
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
            PARKHUB_RATE_LIMIT="20/second",
            PARKHUB_MAX_BODY_BYTES=str(MAX_BODY_BYTES),
            **{f"PARKHUB_UPSTREAM_{name.upper()}": f"http://127.0.0.1:{ports[name]}" for name in WORKERS},
        ),
    }
    platform = Platform(env, var, deadline)
    # nginx's workers drop root for nginx's default user, which must reach the prefix: not under
    # pytest's private tmp folder.
    prefix = Path(tempfile.mkdtemp(prefix="parkhub-nginx-"))
    prefix.chmod(0o755)
    watchdog = threading.Timer(MODULE_BUDGET_SECONDS + 10, platform.kill_all)
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


def test_health_through_nginx_lists_every_service(platform: Platform) -> None:
    response = platform.request("GET", "/api/v1/health")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["services"]) == {"gateway", *SERVICES}
    assert all(service["status"] == "ok" for service in body["services"].values()), body
    assert response.headers["X-Request-ID"]


def test_one_openapi_document_covers_every_service_and_the_docs_page_is_served(platform: Platform) -> None:
    spec = platform.request("GET", "/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert "/api/v1/organisations" in paths
    for service in SERVICES:
        assert f"/api/v1/{service}/directory/organisations/{{org_id}}" in paths, sorted(paths)
    docs = platform.request("GET", "/docs")
    assert docs.status_code == 200
    assert docs.headers["Content-Type"].startswith("text/html")


def test_an_organisation_registered_at_the_gateway_reaches_every_service_and_so_do_its_updates(
    platform: Platform,
) -> None:
    name = f"Chengdu Cell Therapeutics {uuid.uuid4().hex[:6]}"
    created = platform.request("POST", "/api/v1/organisations", user="admin", json={"name": name, "kind": "tenant"})
    assert created.status_code == 201, created.text
    organisation = created.json()

    def directories(expect: str) -> dict[str, Any] | None:
        found = {}
        for service in SERVICES:
            response = platform.request(
                "GET", f"/api/v1/{service}/directory/organisations/{organisation['id']}", user="admin"
            )
            if response.status_code != 200 or response.json()["name"] != expect:
                return None
            found[service] = response.json()
        return found

    seen = platform.wait_for(lambda: directories(name), "the organisation in every directory", PROPAGATION_SECONDS)
    assert {entry["kind"] for entry in seen.values()} == {"tenant"}

    renamed = f"{name} (Tianfu)"
    patched = platform.request(
        "PATCH",
        f"/api/v1/organisations/{organisation['id']}",
        user="admin",
        json={"name": renamed},
        headers={"If-Match": created.headers["ETag"]},
    )
    assert patched.status_code == 200, patched.text
    seen = platform.wait_for(lambda: directories(renamed), "the update in every directory", PROPAGATION_SECONDS)
    assert {entry["version"] for entry in seen.values()} == {patched.json()["version"]}


def test_errors_at_the_edge_are_problems_and_carry_the_request_id(platform: Platform) -> None:
    unknown = platform.request("GET", "/api/v1/no-such-thing", headers={"X-Request-ID": "edge-test-42"})
    assert unknown.status_code == 404
    assert unknown.headers["Content-Type"].startswith(PROBLEM)
    assert unknown.headers["X-Request-ID"] == "edge-test-42"

    stamped = platform.request("GET", "/api/v1/booking/health", headers={"X-Request-ID": "not a valid id!"})
    assert stamped.status_code == 200
    assert stamped.headers["X-Request-ID"] not in ("", "not a valid id!")

    too_big = platform.request(
        "POST",
        "/api/v1/organisations",
        user="admin",
        data=b"x" * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "application/json"},
    )
    assert too_big.status_code == 413
    assert too_big.headers["Content-Type"].startswith(PROBLEM)
    assert too_big.json()["status"] == 413
    assert too_big.json()["request_id"] == too_big.headers["X-Request-ID"]


def test_a_cors_preflight_from_the_portal_is_answered_by_nginx(platform: Platform) -> None:
    preflight = platform.request(
        "OPTIONS",
        "/api/v1/organisations",
        headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "PATCH"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    assert "If-Match" in preflight.headers["Access-Control-Allow-Headers"]
    stranger = platform.request(
        "OPTIONS",
        "/api/v1/organisations",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "PATCH"},
    )
    assert "Access-Control-Allow-Origin" not in stranger.headers


def test_a_client_over_its_rate_limit_gets_429_with_retry_after(platform: Platform) -> None:
    # Its own credential, so its own allowance: 20 per second, here spent in one burst.
    headers = {"Authorization": "Bearer rate-limit-probe"}
    statuses = []
    for _ in range(100):
        response = platform.request("GET", "/api/v1/booking/health", headers=headers)
        statuses.append(response.status_code)
        if response.status_code == 429:
            break
    assert response.status_code == 429, statuses
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["Content-Type"].startswith(PROBLEM)
    assert response.json()["status"] == 429
    assert statuses.count(200) >= 15
    # Others are not held back by this client.
    assert platform.request("GET", "/api/v1/booking/health").status_code == 200
