"""A running embedded platform for tests, and a client that signs in as the demo users."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from werkzeug.test import Client, TestResponse

from embedded import EmbeddedPlatform
from tests.conftest import make_settings


class Park:
    """A running embedded platform and a client for it."""

    def __init__(self, platform: EmbeddedPlatform) -> None:
        self.platform = platform
        self.client = Client(platform.wsgi)
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            response = self.client.post(
                "/api/v1/auth/token",
                data={"grant_type": "password", "username": username, "password": "parkhub-demo"},
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            self._tokens[username] = response.json["access_token"]
        return self._tokens[username]

    def as_user(self, username: str, method: str, path: str, **kwargs: Any) -> TestResponse:
        headers = {"Authorization": f"Bearer {self.token(username)}", **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)


def running_park(seeded_platform: Path, tmp_path: Path, **env: str) -> Iterator[Park]:
    var = tmp_path / "var"
    shutil.copytree(seeded_platform, var)
    platform = EmbeddedPlatform(make_settings(var, **env))
    platform.start()
    # The seed's events (organisations and users) are handled before a test begins, so a test
    # that times its own event does not time the backlog too.
    platform.bus.wait_until_idle(30)
    try:
        yield Park(platform)
    finally:
        platform.stop()
