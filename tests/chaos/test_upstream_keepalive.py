"""A gunicorn API keeps an idle keep-alive connection longer than nginx does (regression).

Found by the broker-down fault test: with no process killed, nginx answered a POST with 502
("upstream prematurely closed connection while reading response header", 0 ms). nginx keeps idle
upstream connections up to 60 s and reuses them, gunicorn closed them after 2 s (its default):
a request nginx sent just as gunicorn closed the connection got a 502, and nginx never retries a
POST. Now gunicorn keeps them :data:`parkhub_cli.UPSTREAM_KEEPALIVE_SECONDS` (75 s), so nginx is
the side that closes them. Here: a real ``parkhub api booking`` (gunicorn) on SQLite; one
connection, a request, an idle pause past gunicorn's old 2 s, a second request on the same
connection.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import parkhub_cli
from tests.chaos.rig import answers, wait_until
from tests.ports import free_port

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
IDLE_SECONDS = 3.0
"""Past gunicorn's default keep-alive (2 s), far below ours."""


def test_an_api_keeps_an_idle_connection_for_nginx_to_reuse(tmp_path: Path) -> None:
    assert parkhub_cli.UPSTREAM_KEEPALIVE_SECONDS > 60  # nginx's upstream keepalive_timeout
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARKHUB_")},
        "PARKHUB_VAR_DIR": str(tmp_path / "var"),
    }
    cli = [sys.executable, "-m", "parkhub_cli"]
    subprocess.run([*cli, "migrate"], cwd=REPO, env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    with open(tmp_path / "api.log", "wb") as log:
        api = subprocess.Popen(
            [*cli, "api", "booking", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{port}/api/v1/booking/health"), "the API to answer", 45)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/v1/booking/health")
        first = connection.getresponse()
        first.read()
        assert first.status == 200
        time.sleep(IDLE_SECONDS)
        # Before: http.client.RemoteDisconnected, the connection closed by gunicorn meanwhile.
        connection.request("GET", "/api/v1/booking/health")
        second = connection.getresponse()
        second.read()
        assert second.status == 200
        connection.close()
    finally:
        os.killpg(api.pid, signal.SIGTERM)
        try:
            api.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(api.pid, signal.SIGKILL)
            api.wait(5)
