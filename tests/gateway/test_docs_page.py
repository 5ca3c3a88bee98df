"""``/docs`` in a real headless browser, as a developer of a partner system opens it.

A real ``parkhub serve`` on a free loopback port over a copy of the seeded databases, and Debian's
``chromium``: the page must render the merged OpenAPI 3.1 document (Swagger UI 4 showed only
"Unable to render this definition"), list the operations of the gateway and of every service, and
its Authorize must get a token from the page's own OAuth 2.0 password flow, with the form exactly as
a person leaves it (client credentials location "Authorization header", no client id), which a
"Try it out" then uses.

Locally a missing ``chromium`` skips these tests; with ``PARKHUB_REQUIRE_BROWSER`` set (``.ci/run``
sets it) it fails them.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.ports import free_port

pytestmark = pytest.mark.slow

SERVICES = ("booking", "consulting", "finance", "notify")
RENDER_BUDGET_MS = 20_000


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("PARKHUB_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed, and PARKHUB_REQUIRE_BROWSER is set", pytrace=False)
        pytest.skip("chromium is not installed (set PARKHUB_REQUIRE_BROWSER=1 to make this a failure)")
    return path


@pytest.fixture(scope="module")
def served(seeded_platform: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a real ``parkhub serve`` on loopback, over a copy of the seeded var/."""
    chromium()  # no server to start when there is no browser to point at it
    var = tmp_path_factory.mktemp("docs-page") / "var"
    shutil.copytree(seeded_platform, var)
    env = {**os.environ, "PARKHUB_VAR_DIR": str(var), "PARKHUB_BUS_NAMESPACE": f"t{uuid.uuid4().hex[:10]}"}
    port = free_port()
    log = var.parent / "serve.log"
    with log.open("ab") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "parkhub_cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"parkhub serve did not become healthy:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=5)


def dump_dom(url: str, profile: Path) -> str:
    """The page's DOM after Chromium has run its scripts (virtual time waits for the fetches)."""
    result = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            f"--virtual-time-budget={RENDER_BUDGET_MS}",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return result.stdout.decode()


def test_the_docs_page_lists_the_operations_of_the_gateway_and_every_service(served: str, tmp_path: Path) -> None:
    dom = dump_dom(f"{served}/docs/", tmp_path / "profile")
    assert "Unable to render this definition" not in dom
    listed = set(re.findall(r'data-path="([^"]+)"', dom))
    expected = {"/api/v1/auth/token", "/api/v1/organisations", "/api/v1/users", "/api/v1/me"}
    expected |= {"/api/v1/booking/reservations", "/api/v1/booking/spaces", "/api/v1/booking/availability"}
    for service in SERVICES:
        expected |= {f"/api/v1/{service}/health", f"/api/v1/{service}/directory/organisations"}
    assert expected <= listed, sorted(expected - listed)
    assert 'class="btn authorize' in dom  # the document declares security schemes


def test_docs_with_and_without_the_trailing_slash_is_the_same_page(served: str) -> None:
    bare, slashed = requests.get(f"{served}/docs", timeout=5), requests.get(f"{served}/docs/", timeout=5)
    assert bare.status_code == slashed.status_code == 200
    assert bare.headers["Content-Type"].startswith("text/html")
    assert bare.text == slashed.text
    script = re.search(r'src="(/docs/assets/[^"]+\.js)"', bare.text)
    assert script is not None
    asset = requests.get(f"{served}{script.group(1)}", timeout=5)
    assert asset.status_code == 200 and len(asset.content) > 100_000  # served here, no CDN
    assert requests.get(f"{served}/docs/assets/../../pyproject.toml", timeout=5).status_code == 404


class DevTools:
    """Chromium driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``: JSON
    messages ended by NUL on file descriptors 3 and 4), so no websocket library is needed."""

    def __init__(self, profile: Path, log: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    "bash",  # dash cannot redirect descriptors above 9
                    "-c",
                    f'exec "$0" "$@" 3<&{to_browser_r} 4>&{from_browser_w}',
                    chromium(),
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    f"--user-data-dir={profile}",
                    "--remote-debugging-pipe",
                    "about:blank",
                ],
                pass_fds=(to_browser_r, from_browser_w),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.session = ""
        try:
            target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        except BaseException:
            self.close()
            raise

    def call(self, method: str, params: dict[str, Any] | None = None, *, timeout: float = 30) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self._next_id:
                    if "error" in answer:
                        raise AssertionError(f"{method}: {answer['error']}")
                    result: dict[str, Any] = answer["result"]
                    return result
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._from_browser], [], [], remaining)[0]:
                raise AssertionError(f"{method}: no answer from chromium within {timeout} s")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise AssertionError(f"{method}: chromium closed the pipe")
            self._buffer += chunk

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in answer:
            raise AssertionError(f"{expression[:80]}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def wait_for(self, expression: str, what: str, timeout: float = 30) -> Any:
        """Poll ``expression`` until it is truthy (bounded), and return its value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"{what}: not within {timeout} s")

    def close(self) -> None:
        try:
            os.write(self._to_browser, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait(timeout=5)
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    devtools = DevTools(tmp_path / "profile", tmp_path / "chromium.log")
    try:
        yield devtools
    finally:
        devtools.close()


# React reads an input's value through its own setter: set it there and announce the change.
TYPE_INTO = """(input, text) => {
  Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, text);
  input.dispatchEvent(new Event("input", {bubbles: true}));
}"""


def flow_of_dialog(flow: str) -> str:
    """JS for the smallest element around an OAuth2 flow's heading that holds its own
    Authorize/Logout button (each flow of the dialog is one such block)."""
    return f"""(() => {{
      let node = [...document.querySelectorAll('.modal-ux h4')].find(h => h.textContent.includes('{flow}'));
      while (node && !node.querySelector('button.modal-btn')) node = node.parentElement;
      return node;
    }})()"""


def authorize_in_dialog(browser: DevTools, flow: str, fields: dict[str, str]) -> str:
    """Fill ``fields`` (input id prefix → text) of ``flow`` in the open dialog, press its
    Authorize, and return the access token Swagger UI got (or fail with the error it shows)."""
    block = flow_of_dialog(flow)
    for prefix, text in fields.items():
        browser.evaluate(f"({TYPE_INTO})({block}.querySelector('[id^={prefix}]'), {json.dumps(text)})")
    browser.evaluate(f"{block}.querySelector('button.modal-btn.authorize').click()")
    outcome: str = browser.wait_for(
        f"""(() => {{
          const error = {block}.querySelector('.errors');
          if (error && error.textContent.trim()) return 'error: ' + error.textContent;
          const token = window.ui.authSelectors.authorized().getIn(['oauth2', 'token', 'access_token']);
          return token ? 'token: ' + token : null;
        }})()""",
        f"a token or an error after Authorize ({flow})",
    )
    assert outcome.startswith("token: "), outcome
    return outcome.removeprefix("token: ")


def open_authorize_dialog(browser: DevTools, served: str) -> str:
    browser.call("Page.navigate", {"url": f"{served}/docs"})
    browser.wait_for("document.querySelectorAll('.opblock').length > 20", "operations rendered")
    browser.evaluate("document.querySelector('.btn.authorize').click()")
    headings: str = browser.wait_for(
        "[...document.querySelectorAll('.modal-ux h4')].map(h => h.textContent).join('|')", "the Authorize dialog"
    )
    return headings


def test_authorize_on_the_page_signs_in_with_the_password_flow_and_try_it_out_uses_the_token(
    served: str, browser: DevTools
) -> None:
    flows = open_authorize_dialog(browser, served)
    assert "password" in flows and "clientCredentials" in flows  # both OAuth2 flows, beside bearer
    assert "bearerAuth" in flows
    # As a person leaves the form: client credentials location "Authorization header", no client
    # id, so Swagger UI sends "Authorization: Basic Og==" (":"), which must not count as a client.
    token = authorize_in_dialog(browser, "password", {"oauth_username": "admin", "oauth_password": "parkhub-demo"})
    me = requests.get(f"{served}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert me.status_code == 200 and me.json()["username"] == "admin"

    # The token is what "Try it out" sends: GET /api/v1/me answers for the signed-in admin.
    browser.evaluate("document.querySelector('.modal-ux .btn-done, .modal-ux .close-modal').click()")
    browser.evaluate(
        """document.querySelector('[data-path="/api/v1/me"]').closest('.opblock')"""
        """.querySelector('.opblock-summary-control').click()"""
    )
    browser.wait_for("!!document.querySelector('.opblock.is-open .try-out__btn')", "the operation opened")
    browser.evaluate("document.querySelector('.opblock.is-open .try-out__btn').click()")
    browser.wait_for("!!document.querySelector('.opblock.is-open .btn.execute')", "Try it out")
    browser.evaluate("document.querySelector('.opblock.is-open .btn.execute').click()")
    answer = ".opblock.is-open .live-responses-table tr.response"
    status = browser.wait_for(
        f"(document.querySelector('{answer} .response-col_status') || {{}}).textContent", "the answer of Execute"
    )
    body = browser.evaluate(f"document.querySelector('{answer} .response-col_description').textContent")
    assert status.strip() == "200", body
    assert '"username": "admin"' in body and "park_admin" in body


def test_authorize_on_the_page_gets_a_partner_token_with_client_credentials(served: str, browser: DevTools) -> None:
    open_authorize_dialog(browser, served)
    token = authorize_in_dialog(
        browser, "clientCredentials", {"client_id_": "shudu-bank-demo", "client_secret_": "parkhub-demo-bank-secret"}
    )
    me = requests.get(f"{served}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert me.status_code == 200 and me.json()["kind"] == "client", me.text
