"""nginx's configuration as rendered from the route table: what it says, and that nginx takes it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gateway.nginx import render
from shared.settings import SERVICES, Settings, SettingsError
from tests.integration.conftest import nginx_binary
from tests.ports import free_port


def settings(**env: str) -> Settings:
    return Settings.from_env({"PARKHUB_VAR_DIR": "/tmp/parkhub-unused", **env})


@pytest.fixture
def prefix() -> Iterator[Path]:
    # nginx's workers drop root for its default user, which must reach the prefix.
    path = Path(tempfile.mkdtemp(prefix="parkhub-nginx-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_every_route_goes_to_its_upstream_with_the_uri_unchanged_and_the_rest_to_the_gateway() -> None:
    config = render(
        settings(PARKHUB_UPSTREAM_BOOKING="http://booking-api:8101", PARKHUB_UPSTREAM_GATEWAY="http://gateway:9000"),
        "8080",
    )
    assert "listen 8080;" in config
    assert re.search(r"upstream parkhub_booking \{\s+server booking-api:8101;", config)
    assert re.search(r"upstream parkhub_gateway \{\s+server gateway:9000;", config)
    for service in SERVICES:
        # proxy_pass without a URI part passes the client's URI as it came.
        assert f"location /api/v1/{service}/ {{ proxy_pass http://parkhub_{service}; }}" in config
    assert "location / { proxy_pass http://parkhub_gateway; }" in config
    assert "daemon off;" in config and "pid nginx.pid;" in config


@pytest.mark.parametrize(
    ("rate", "nginx_rate", "burst", "retry_after"),
    [("600/minute", "10r/s", 599, 1), ("20/second", "20r/s", 19, 1), ("100/hour", "2r/m", 99, 36)],
)
def test_the_rate_limit_keeps_the_settings_average_and_burst(
    rate: str, nginx_rate: str, burst: int, retry_after: int
) -> None:
    config = render(settings(PARKHUB_RATE_LIMIT=rate), "8080")
    assert f"zone=parkhub_clients:32m rate={nginx_rate};" in config
    assert f"limit_req zone=parkhub_clients burst={burst} nodelay;" in config
    assert f'"429:" "{retry_after}";' in config


@pytest.mark.parametrize(
    ("env", "listen"),
    [
        ({}, "8080; include /etc/passwd"),
        ({"PARKHUB_UPSTREAM_NOTIFY": "https://notify:8104"}, "8080"),
        ({"PARKHUB_UPSTREAM_NOTIFY": "http://notify:8104/prefix"}, "8080"),
        ({"PARKHUB_RATE_LIMIT": "plenty"}, "8080"),
        ({"PARKHUB_PORTAL_ORIGINS": 'https://portal.example" always; add_header X "y'}, "8080"),
    ],
)
def test_a_malformed_setting_is_refused_before_nginx_sees_it(env: dict[str, str], listen: str) -> None:
    with pytest.raises(SettingsError):
        render(settings(**env), listen)


def test_nginx_accepts_the_rendered_config(prefix: Path) -> None:
    nginx = nginx_binary()
    config = prefix / "nginx.conf"
    config.write_text(render(settings(), "127.0.0.1:8080"))
    checked = subprocess.run(
        [nginx, "-t", "-q", "-c", str(config), "-p", f"{prefix}/", "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_an_upstream_that_is_down_answers_a_problem_with_the_request_id(prefix: Path) -> None:
    nginx = nginx_binary()
    closed, listen = free_port(), free_port()
    env = {f"PARKHUB_UPSTREAM_{name.upper()}": f"http://127.0.0.1:{closed}" for name in ("gateway", *SERVICES)}
    config = prefix / "nginx.conf"
    config.write_text(render(settings(**env), f"127.0.0.1:{listen}"))
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
                response = requests.get(
                    f"http://127.0.0.1:{listen}/api/v1/finance/health",
                    headers={"X-Request-ID": "down-1", "Origin": "http://localhost:5173"},
                    timeout=5,
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        assert response.status_code == 502
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.headers["X-Request-ID"] == "down-1"
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
        assert response.json() == {
            "type": "https://parkhub.tianfu-lifescience.cn/problems/bad-gateway",
            "title": "Bad Gateway",
            "status": 502,
            "detail": "The service behind this URL is not answering; try again shortly.",
            "request_id": "down-1",
        }
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
