"""The one HTTP request of a webhook attempt: check the URL again (its DNS answer may have changed
since it was registered), sign the body by Standard Webhooks, POST it with ``requests`` and say
what came back. No database here: the caller records the :class:`Result`.

Redirects are not followed (a 3xx is an answer like any other, retried); the timeout and the CA
bundle are settings (``webhook_timeout_seconds``, ``webhook_ca_bundle``). An error text never
carries the secret or the signature: it is the exception's class and message, which ``requests``
builds from the URL and the socket, never from our headers.
"""

from __future__ import annotations

import json
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

import requests

from services.notify.rules import signing
from services.notify.rules.endpoints import check_url
from shared.clock import utcnow
from shared.errors import RuleViolation
from shared.settings import Settings

USER_AGENT = "ParkHub-Webhooks/1.0"
MAX_ERROR = 500


@dataclass(frozen=True)
class Request:
    """What to send: a delivery's body to an endpoint's URL, signed with its secrets."""

    delivery_id: str
    url: str
    payload: dict[str, Any]
    keys: signing.Secrets


@dataclass(frozen=True)
class Result:
    """What an attempt got: the HTTP ``status`` (None: no answer, ``error`` says why),
    ``refused`` when the URL was refused before sending (its address is not public)."""

    status: int | None
    error: str | None
    duration_ms: int
    retry_after: str | None = None
    refused: bool = False


def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to (none when it does not resolve)."""
    try:
        answers = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return list(dict.fromkeys(str(answer[4][0]) for answer in answers))


def body_text(payload: dict[str, Any]) -> str:
    """The exact body sent (and signed): compact JSON, UTF-8, keys in the payload's order."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _short(text: str) -> str:
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def send(request: Request, settings: Settings) -> Result:
    """POST ``request`` now, or refuse it when its URL may not be delivered to."""
    started = time.monotonic()
    try:
        check_url(request.url, resolve, allow_private=settings.webhook_allow_private)
    except RuleViolation as exc:
        return Result(None, _short(f"refused ({exc.code}): {exc}"), 0, refused=True)
    body = body_text(request.payload)
    headers = signing.headers(request.delivery_id, body, request.keys, utcnow())
    headers.update({"Content-Type": "application/json", "User-Agent": USER_AGENT})
    # requests' timeout bounds each read, not the exchange: a partner answering a header line a
    # second would hold the run (and every other partner's deliveries) for as long as it likes. The
    # exchange runs in a thread of its own and is given up after the timeout, wall clock; the
    # thread ends by itself at the partner's next silence of the timeout (its reads stay bounded).
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="notify-webhook")
    try:
        future = pool.submit(_post, request.url, body, headers, settings)
        status, retry_after = future.result(timeout=settings.webhook_timeout_seconds)
    except (FutureTimeout, requests.Timeout):
        elapsed = int((time.monotonic() - started) * 1000)
        return Result(None, f"timeout after {settings.webhook_timeout_seconds:g} s", elapsed)
    except requests.RequestException as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        return Result(None, _short(f"{type(exc).__name__}: {exc}"), elapsed)
    finally:
        pool.shutdown(wait=False)
    elapsed = int((time.monotonic() - started) * 1000)
    error = None if 200 <= status < 300 else f"HTTP {status}"
    return Result(status, error, elapsed, retry_after)


def _post(url: str, body: str, headers: dict[str, str], settings: Settings) -> tuple[int, str | None]:
    """One POST: the answer's status and ``Retry-After``; its body is never read."""
    answer = requests.post(
        url,
        data=body.encode("utf-8"),
        headers=headers,
        timeout=settings.webhook_timeout_seconds,
        allow_redirects=False,
        stream=True,  # the answer's body is never read: a partner cannot make us download much
        verify=settings.webhook_ca_bundle or True,
    )
    answer.close()
    return answer.status_code, answer.headers.get("Retry-After")
