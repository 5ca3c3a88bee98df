"""Metrics of the distributed mode's real processes (docs/OPERATIONS.md, "Metrics"): a service API
under gunicorn with two workers answers ``/metrics`` adding up both workers (the multiprocess
directory); a worker answers it on ``PARKHUB_METRICS_PORT``; nginx answers ``/metrics`` with a 404
problem and never passes it on."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from gateway.nginx import render
from parkhub_cli import listening_sockets
from shared.settings import SERVICES, Settings
from tests.integration.conftest import nginx_binary
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 30.0


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*command: str, env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            list(command), cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in started:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def env_of(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARKHUB_", "PROMETHEUS_", "OTEL_"))}
    return {
        **env,
        "PARKHUB_VAR_DIR": str(settings.var_dir),
        "PARKHUB_BUS_NAMESPACE": settings.bus_namespace,
        "PARKHUB_LOG_LEVEL": "WARNING",
        **extra,
    }


def wait_for(url: str, deadline: float, process: subprocess.Popen[bytes], log: Path) -> requests.Response:
    while True:
        assert process.poll() is None, f"the process ended:\n{log.read_text()[-3000:]}"
        try:
            return requests.get(url, timeout=10)
        except (requests.ConnectionError, requests.Timeout):
            assert time.monotonic() < deadline, f"{url} did not answer:\n{log.read_text()[-3000:]}"
            time.sleep(0.1)


def sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return None


def test_a_service_api_under_gunicorn_adds_up_its_workers(settings: Settings, processes: Any, tmp_path: Path) -> None:
    port = free_port()
    deadline = time.monotonic() + DEADLINE_SECONDS
    api = processes(
        sys.executable,
        "-m",
        "parkhub_cli",
        "api",
        "consulting",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        env=env_of(settings),
        name="api",
    )
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/api/v1/consulting/health", deadline, api, tmp_path / "api.log")
    health = {"service": "consulting", "method": "GET", "route": "/api/v1/consulting/health", "status": "200"}
    before = sample(requests.get(f"{base}/metrics", timeout=10).text, "parkhub_http_requests_total", **health)
    # Fresh connections, so that gunicorn hands them to either worker.
    answered = sum(requests.get(f"{base}/api/v1/consulting/health", timeout=10).status_code == 200 for _ in range(30))
    assert answered == 30 and before is not None

    text = requests.get(f"{base}/metrics", timeout=10).text
    # Both workers' counts, whichever worker answered /metrics (one alone would have about half).
    assert sample(text, "parkhub_http_requests_total", **health) == before + answered
    assert sample(text, "parkhub_outbox_backlog", service="consulting") == 0


def test_a_worker_answers_metrics_on_its_metrics_port(settings: Settings, processes: Any, tmp_path: Path) -> None:
    port = free_port()
    deadline = time.monotonic() + DEADLINE_SECONDS
    worker = processes(
        sys.executable,
        "-m",
        "parkhub_cli",
        "worker",
        "consulting",
        env=env_of(settings, PARKHUB_METRICS_PORT=str(port)),
        name="worker",
    )
    text = wait_for(f"http://127.0.0.1:{port}/metrics", deadline, worker, tmp_path / "worker.log").text
    assert sample(text, "parkhub_outbox_backlog", service="consulting") == 0
    assert sample(text, "parkhub_outbox_oldest_age_seconds", service="consulting") == 0
    assert "parkhub_events_handled_total" in text


def test_nginx_answers_metrics_with_a_404_problem_and_never_forwards_it() -> None:
    nginx = nginx_binary()
    prefix = Path(tempfile.mkdtemp(prefix="parkhub-nginx-"))
    prefix.chmod(0o755)
    # Every upstream is a port that answers nothing: a forwarded /metrics would be a 502.
    closed, listen = free_port(), free_port()
    env = {f"PARKHUB_UPSTREAM_{name.upper()}": f"http://127.0.0.1:{closed}" for name in ("gateway", *SERVICES)}
    config = prefix / "nginx.conf"
    config.write_text(render(Settings.from_env({"PARKHUB_VAR_DIR": str(prefix), **env}), f"127.0.0.1:{listen}"))
    process = subprocess.Popen(
        [nginx, "-c", str(config), "-p", f"{prefix}/", "-e", "stderr"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                hidden = requests.get(f"http://127.0.0.1:{listen}/metrics", headers={"X-Request-ID": "m-1"}, timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        assert hidden.status_code == 404
        assert hidden.headers["Content-Type"] == "application/problem+json"
        assert hidden.json() == {
            "type": "https://parkhub.tianfu-lifescience.cn/problems/not-found",
            "title": "Not Found",
            "status": 404,
            "detail": "No resource lives at this URL.",
            "request_id": "m-1",
        }
        below = requests.get(f"http://127.0.0.1:{listen}/metrics/x", headers={"Accept-Language": "zh"}, timeout=5)
        assert below.status_code == 404 and below.headers["Content-Language"].startswith("zh")
        # Anything else still goes to the upstream (down here: nginx's 502).
        assert requests.get(f"http://127.0.0.1:{listen}/metricsx", timeout=5).status_code == 502
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        shutil.rmtree(prefix, ignore_errors=True)


def test_parkhub_serve_answers_metrics_on_its_metrics_port_only(
    seeded_platform: Path, processes: Any, tmp_path: Path
) -> None:
    var = tmp_path / "var"
    shutil.copytree(seeded_platform, var)
    port, metrics_port = free_port(), free_port()
    deadline = time.monotonic() + DEADLINE_SECONDS
    settings = Settings.from_env({"PARKHUB_VAR_DIR": str(var), "PARKHUB_BUS_NAMESPACE": "serve-metrics"})
    serve = processes(
        sys.executable,
        "-m",
        "parkhub_cli",
        "serve",
        "--port",
        str(port),
        env=env_of(settings, PARKHUB_METRICS_PORT=str(metrics_port)),
        name="serve",
    )
    health = wait_for(f"http://127.0.0.1:{port}/api/v1/health", deadline, serve, tmp_path / "serve.log")
    assert health.status_code == 200
    public = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
    assert public.status_code == 404 and public.headers["Content-Type"] == "application/problem+json"

    text = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
    for database in ("gateway", *SERVICES):
        assert sample(text, "parkhub_outbox_backlog", service=database) is not None, database
    assert sample(text, "parkhub_http_requests_total", service="gateway", route="/api/v1/health", status="200")


def test_a_gunicorn_worker_ending_leaves_the_multiprocess_directory_to_its_master(
    settings: Settings, processes: Any, tmp_path: Path
) -> None:
    """One worker ending (TERM) must not remove the directory the master and the other workers
    share: gunicorn boots a replacement and the API still answers ``/health`` and ``/metrics``."""
    port = free_port()
    deadline = time.monotonic() + DEADLINE_SECONDS
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    api = processes(
        sys.executable,
        "-m",
        "parkhub_cli",
        "api",
        "notify",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        env=env_of(settings, TMPDIR=str(scratch)),
        name="api",
    )
    base, log = f"http://127.0.0.1:{port}", tmp_path / "api.log"
    assert wait_for(f"{base}/api/v1/notify/health", deadline, api, log).status_code == 200
    (directory,) = scratch.glob("parkhub-metrics-notify-*")
    workers = children_of(api.pid, deadline, at_least=2)
    # A worker listens once its app is loaded (parkhub_cli._gunicorn): both must, or the one
    # ended below could be the only one serving.
    both_listening(port, deadline, api, log)

    os.kill(workers[0], signal.SIGTERM)
    while True:  # the ended worker is replaced by a new one
        now = children_of(api.pid, deadline)
        if len(now) == 2 and workers[0] not in now:
            break
        assert api.poll() is None, f"the master ended:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"no replacement worker: {now}\n{log.read_text()[-3000:]}"
        time.sleep(0.1)
    both_listening(port, deadline, api, log)

    assert directory.is_dir(), "a worker's exit removed the shared multiprocess directory"
    # Fresh connections reach either worker, the replacement too.
    assert all(requests.get(f"{base}/api/v1/notify/health", timeout=10).status_code == 200 for _ in range(10))
    metrics = requests.get(f"{base}/metrics", timeout=10)
    assert metrics.status_code == 200 and "parkhub_http_requests_total" in metrics.text
    assert api.poll() is None, log.read_text()[-3000:]

    os.killpg(api.pid, signal.SIGTERM)
    api.wait(timeout=15)
    assert not directory.exists(), "the master left its multiprocess directory behind"


def both_listening(port: int, deadline: float, api: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until two workers listen on ``port`` (each binds its own socket once loaded)."""
    while len(listening_sockets(port)) < 2:
        assert api.poll() is None, f"the master ended:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"not every worker listens:\n{log.read_text()[-3000:]}"
        time.sleep(0.1)


def children_of(pid: int, deadline: float, at_least: int = 1) -> list[int]:
    """The live child processes of ``pid`` (Linux: /proc), waiting until there are ``at_least``."""
    while True:
        found: list[int] = []
        for status in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = status.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(status.parent.name))
        if len(found) >= at_least:
            return sorted(found)
        assert time.monotonic() < deadline, f"{pid} has no children"
        time.sleep(0.1)
