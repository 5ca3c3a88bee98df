"""Rate limits per client, in both modes: one client over its limit gets 429 problem+json with a
``Retry-After`` of whole seconds (> 0), in its language; in the same moment every other client (a
user with another token, a partner's API client, a caller from another address) is answered.

- Embedded: the edge (gateway/edge.py) over the seeded platform, with real sign-ins.
- Distributed: nginx as ``parkhub nginx-config`` renders it (gateway/nginx.py: ``limit_req`` on
  the credential, and on the address at ten times the rate), in front of a stand-in upstream on
  loopback, with callers on three loopback addresses (127.0.0.1, .2, .3).

tests/test_platform.py and tests/integration/test_distributed.py each show one client limited;
this file shows who else is not, on both edges, and what the limited client reads.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gateway.nginx import render
from shared.settings import SERVICES, Settings
from tests.integration.conftest import nginx_binary
from tests.park import Park, running_park
from tests.ports import free_port

PROBLEM = "application/problem+json"
CJK = re.compile(r"[\u4e00-\u9fff]")
TOKEN = "/api/v1/auth/token"


def assert_limited(status: int, headers: Any, body: dict[str, Any], language: str) -> int:
    """A 429 problem+json with an integer ``Retry-After`` > 0, its detail in ``language``;
    returns the seconds."""
    assert status == 429, body
    assert headers["Content-Type"].startswith(PROBLEM)
    retry_after = headers["Retry-After"]
    assert re.fullmatch(r"[1-9][0-9]*", retry_after), retry_after
    assert body["status"] == 429 and body["type"].endswith("/too-many-requests")
    assert bool(CJK.search(body["detail"])) == (language == "zh"), body["detail"]
    assert body["request_id"]
    return int(retry_after)


# ---------------------------------------------------------------------------------------------
# The embedded edge


@pytest.fixture
def park(seeded_platform: Path, tmp_path: Path) -> Iterator[Park]:
    yield from running_park(seeded_platform, tmp_path, PARKHUB_RATE_LIMIT="5/minute")


def signed_in(park: Park, address: str, **form: str) -> str:
    """An access token, asked for from ``address`` (each sign-in spends that address's budget)."""
    answer = park.client.post(TOKEN, data=form, environ_base={"REMOTE_ADDR": address})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return str(answer.json["access_token"])


def test_the_embedded_edge_limits_one_client_and_no_other(park: Park) -> None:
    office = "192.0.2.10"  # alice, bob and the bank's client all call from the same office address
    alice = signed_in(park, "192.0.2.21", grant_type="password", username="alice", password="parkhub-demo")
    bob = signed_in(park, "192.0.2.22", grant_type="password", username="bob", password="parkhub-demo")
    bank = signed_in(
        park,
        "192.0.2.23",
        grant_type="client_credentials",
        client_id="shudu-bank-demo",
        client_secret="parkhub-demo-bank-secret",
    )

    def get(token: str | None, address: str = office, language: str = "en") -> Any:
        headers = {"Accept-Language": language, **({"Authorization": f"Bearer {token}"} if token else {})}
        return park.client.get("/api/v1/me", headers=headers, environ_base={"REMOTE_ADDR": address})

    assert [get(alice).status_code for _ in range(5)] == [200] * 5
    for language in ("en", "zh"):
        limited = get(alice, language=language)
        seconds = assert_limited(limited.status_code, limited.headers, limited.json, language)
        assert 1 <= seconds <= 60
        assert limited.headers["Content-Language"] == {"en": "en", "zh": "zh-CN"}[language]

    # The same moment, the same address: another user, a partner's API client, and an anonymous
    # caller elsewhere are each answered on their own budgets.
    assert get(bob).status_code == 200
    assert get(bank).status_code == 200
    assert get(None, address="198.51.100.40").status_code == 401  # answered: no token, not limited
    assert get(alice).status_code == 429  # …while alice still waits
    assert get(alice, address="203.0.113.77").status_code == 429  # another address is no way around it


# ---------------------------------------------------------------------------------------------
# nginx in the distributed mode


class _Upstream(BaseHTTPRequestHandler):
    """Stands in for every service behind nginx: 200 with a small JSON body to anything."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[int]:
    """nginx with the rendered config, every upstream this machine's stand-in; yields its port.
    10 an hour per client: nginx's ``1r/m`` with a burst of 9, and ``2r/m`` with a burst of 90 per
    address; slow refills, so a loaded machine's slow loop sees the same counts."""
    binary = nginx_binary()
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    prefix = Path(tempfile.mkdtemp(prefix="parkhub-nginx-"))
    prefix.chmod(0o755)  # nginx's workers drop root for its default user
    listen = free_port()
    url = f"http://127.0.0.1:{upstream.server_address[1]}"
    env = {f"PARKHUB_UPSTREAM_{name.upper()}": url for name in ("gateway", *SERVICES)}
    settings = Settings.from_env({"PARKHUB_VAR_DIR": str(tmp_path), "PARKHUB_RATE_LIMIT": "10/hour", **env})
    (prefix / "nginx.conf").write_text(render(settings, f"127.0.0.1:{listen}"))
    process = subprocess.Popen(
        [binary, "-c", str(prefix / "nginx.conf"), "-p", f"{prefix}/", "-e", "stderr"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 10
        while call(listen, "/healthz")[0] != 200:
            assert time.monotonic() < deadline and process.poll() is None, "nginx did not start"
            time.sleep(0.1)
        yield listen
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
        upstream.shutdown()
        upstream.server_close()
        shutil.rmtree(prefix, ignore_errors=True)


def call(
    port: int, path: str, *, token: str | None = None, source: str = "127.0.0.1", language: str = "en"
) -> tuple[int, Any, Any]:
    """GET ``path`` from the loopback address ``source``: (status, headers, JSON body or None)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    try:
        headers = {"Accept-Language": language, **({"Authorization": f"Bearer {token}"} if token else {})}
        try:
            connection.request("GET", path, headers=headers)
        except ConnectionRefusedError:
            return 0, {}, None
        response = connection.getresponse()
        raw = response.read()
        body = json.loads(raw) if raw.startswith(b"{") else None
        return response.status, response.headers, body
    finally:
        connection.close()


def test_nginx_limits_one_client_and_no_other(nginx: int) -> None:
    path = "/api/v1/booking/spaces"
    started = time.monotonic()
    statuses = [call(nginx, path, token="alice-session")[0] for _ in range(12)]
    refilled = int((time.monotonic() - started) / 60)  # one more a minute
    assert statuses[:10] == [200] * 10, statuses  # the burst
    assert statuses[10:].count(429) >= 2 - refilled, statuses
    for language in ("en", "zh"):
        status, headers, body = call(nginx, path, token="alice-session", language=language)
        assert assert_limited(status, headers, body, language) == 360  # one request's share of the hour
        assert headers["Content-Language"] == {"en": "en", "zh": "zh-CN"}[language]

    # The same moment: another credential from the same address, an anonymous caller from the
    # same and from another address, a partner's client from a third.
    assert call(nginx, path, token="bob-session")[0] == 200
    assert call(nginx, path)[0] == 200
    assert call(nginx, path, source="127.0.0.2")[0] == 200
    assert call(nginx, path, token="bank-client", source="127.0.0.3")[0] == 200
    assert call(nginx, path, token="alice-session", source="127.0.0.2")[0] == 429


def test_nginx_caps_an_address_that_invents_credentials(nginx: int) -> None:
    """Each made-up token would be a fresh client: the address's own limit (ten clients' worth,
    a burst of 91) stops it, and only it."""
    path = "/api/v1/finance/products"
    started = time.monotonic()
    statuses = [call(nginx, path, token=f"made-up-{n}", source="127.0.0.3")[0] for n in range(130)]
    refilled = math.ceil((time.monotonic() - started) * 2 / 60)  # two more a minute
    first_refusal = statuses.index(429)
    assert 90 <= first_refusal <= 91 + refilled, statuses  # the address's burst of 91
    assert set(statuses) == {200, 429}, statuses
    assert statuses[first_refusal:].count(200) <= refilled, statuses
    status, headers, body = call(nginx, path, token="made-up-final", source="127.0.0.3")
    assert_limited(status, headers, body, "en")
    assert call(nginx, path, token="made-up-final", source="127.0.0.2")[0] == 200
