"""What a journey test drives: the platform over HTTP as its users, in either run mode.

A journey is written once as a function of a :class:`Driver` (``tests/journeys/<journey>.py``:
``run(driver)``) and run by ``test_<journey>.py`` on the embedded platform and by
``test_distributed_journeys.py`` on the distributed one (gunicorn, nginx, PostgreSQL, RabbitMQ).
Users are the demo users (password ``parkhub-demo``); events cross services on the bus, so every
effect in another service is awaited with :meth:`Driver.wait_for`, never assumed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, the JSON body (None when the body is not JSON) and the headers."""

    status: int
    json: Any
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""

    def expect(self, status: int) -> Any:
        """The JSON body, after checking the status (the body in the failure message)."""
        assert self.status == status, f"expected {status}, got {self.status}: {self.text[:2000]}"
        return self.json


class Driver(Protocol):
    mode: str

    def call(
        self,
        user: str | None,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        data: Any = None,
    ) -> Answer: ...

    def wait_for(self, condition: Callable[[], T | None], what: str, timeout: float = 20.0) -> T: ...


def poll(
    condition: Callable[[], T | None], what: str, timeout: float, *, check: Callable[[], None] = lambda: None
) -> T:
    """``condition()``'s first truthy value within ``timeout`` seconds; ``check`` may raise early."""
    deadline = time.monotonic() + timeout
    while True:
        check()
        result = condition()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(0.1)


def _request_options(headers: dict[str, str] | None, json: Any, data: Any) -> dict[str, Any]:
    """The keyword arguments of one request, for Werkzeug's client and for requests alike."""
    options: dict[str, Any] = {"headers": dict(headers or {})}
    if json is not None:
        options["json"] = json
    if data is not None:
        options["data"] = data
    return options


class EmbeddedDriver:
    """The embedded platform (``tests.park.Park``): one process, the in-memory bus."""

    mode = "embedded"

    def __init__(self, park: Any) -> None:
        self.park = park

    def call(
        self,
        user: str | None,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        data: Any = None,
    ) -> Answer:
        kwargs = _request_options(headers, json, data)
        if user is None:
            response = self.park.client.open(path, method=method, **kwargs)
        else:
            response = self.park.as_user(user, method, path, **kwargs)
        text = response.get_data(as_text=True)
        return Answer(response.status_code, response.get_json(silent=True), dict(response.headers), text)

    def wait_for(self, condition: Callable[[], T | None], what: str, timeout: float = 20.0) -> T:
        return poll(condition, what, timeout)


class DistributedDriver:
    """The distributed platform (``tests.integration.platform.Platform``): a client of nginx only."""

    mode = "distributed"

    def __init__(self, platform: Any) -> None:
        self.platform = platform

    def call(
        self,
        user: str | None,
        method: str,
        path: str,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
        data: Any = None,
    ) -> Answer:
        kwargs = _request_options(headers, json, data)
        response = self.platform.request(method, path, user=user, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        return Answer(response.status_code, body, dict(response.headers), response.text)

    def wait_for(self, condition: Callable[[], T | None], what: str, timeout: float = 20.0) -> T:
        return self.platform.wait_for(condition, what, timeout)
