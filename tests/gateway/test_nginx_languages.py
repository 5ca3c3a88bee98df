"""The problems nginx itself answers in the distributed mode speak the client's first language
(Chinese or English) and say so in ``Content-Language``; a service's own answer keeps its header.
Runs the rendered configuration in a real nginx, against a closed port and a tiny upstream."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from gateway.nginx import render
from shared.settings import SERVICES, Settings
from tests.integration.conftest import nginx_binary
from tests.ports import free_port

BROWSER_IN_CHINA = "zh-CN,zh;q=0.9,en;q=0.8"


class EnglishOnly(BaseHTTPRequestHandler):
    """An upstream that answers every GET in English and says so."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Language", "en")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        return None


@pytest.fixture
def edge() -> Iterator[str]:
    """nginx on a free port: the gateway's upstream is a tiny English server, every service's a
    closed port (502); bodies over 1024 bytes are refused (413). Yields nginx's base URL."""
    nginx = nginx_binary()
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), EnglishOnly)
    serving = threading.Thread(target=upstream.serve_forever, daemon=True)
    serving.start()
    prefix = Path(tempfile.mkdtemp(prefix="parkhub-nginx-i18n-"))
    prefix.chmod(0o755)  # nginx's workers drop root for its default user, which must reach it
    closed, listen = free_port(), free_port()
    env = {f"PARKHUB_UPSTREAM_{name.upper()}": f"http://127.0.0.1:{closed}" for name in SERVICES}
    env["PARKHUB_UPSTREAM_GATEWAY"] = f"http://127.0.0.1:{upstream.server_address[1]}"
    settings = Settings.from_env({"PARKHUB_VAR_DIR": str(prefix / "var"), "PARKHUB_MAX_BODY_BYTES": "1024", **env})
    (prefix / "nginx.conf").write_text(render(settings, f"127.0.0.1:{listen}"))
    process = subprocess.Popen(
        [nginx, "-c", str(prefix / "nginx.conf"), "-p", f"{prefix}/", "-e", "stderr"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{listen}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                requests.get(base + "/healthz", timeout=2)
                break
            except requests.ConnectionError:
                assert process.poll() is None, "nginx exited"
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        upstream.shutdown()
        upstream.server_close()
        shutil.rmtree(prefix, ignore_errors=True)


@pytest.mark.parametrize("accept_language", ["zh-CN", BROWSER_IN_CHINA, "zh;q=1.0, en;q=0.5"])
def test_nginx_problems_speak_chinese_to_a_client_that_lists_it_first(edge: str, accept_language: str) -> None:
    down = requests.get(edge + "/api/v1/finance/health", headers={"Accept-Language": accept_language}, timeout=5)
    assert down.status_code == 502
    assert down.headers["Content-Type"] == "application/problem+json"
    assert down.headers["Content-Language"] == "zh-CN"
    assert "Accept-Language" in down.headers["Vary"]
    body = down.json()
    assert (body["title"], body["detail"]) == ("网关错误", "此 URL 背后的服务没有响应，请稍后重试。")
    assert body["type"].endswith("/bad-gateway")

    too_big = requests.post(
        edge + "/api/v1/booking/reservations", data=b"x" * 2048, headers={"Accept-Language": accept_language}, timeout=5
    )
    assert too_big.status_code == 413
    assert too_big.json()["detail"] == "请求体超过了 1024 字节的上限。"

    # A case's message with files may be larger (gateway.routes.LARGE_BODIES): nginx passes it on
    # to consulting (a closed port here: 502), not a 413.
    upload = requests.post(edge + "/api/v1/consulting/cases/c1/messages", data=b"x" * 2048, timeout=5)
    assert upload.status_code == 502


@pytest.mark.parametrize("accept_language", [None, "en", "fr", "en-GB,zh-CN;q=0.8"])
def test_nginx_problems_stay_english_otherwise(edge: str, accept_language: str | None) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}
    down = requests.get(edge + "/api/v1/finance/health", headers=headers, timeout=5)
    assert down.status_code == 502
    assert down.headers["Content-Language"] == "en"
    assert down.json()["detail"] == "The service behind this URL is not answering; try again shortly."


def test_an_upstreams_answer_keeps_its_own_content_language(edge: str) -> None:
    answer = requests.get(edge + "/api/v1/health", headers={"Accept-Language": "zh-CN"}, timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Language"] == "en"  # the upstream's, once; nginx adds none
