"""This machine's real servers for the tests that need them: reachability and PostgreSQL databases.

Locally, a server that is down skips its tests with a reason; with ``PARKHUB_REQUIRE_POSTGRES`` /
``PARKHUB_REQUIRE_RABBITMQ`` set (``.ci/run`` sets both) it fails them instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from urllib.parse import urlsplit

import psycopg
import pytest

from shared.settings import DATABASES

POSTGRES_ADMIN_URL = os.environ.get("PARKHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBITMQ_URL = os.environ.get("PARKHUB_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1.0):
            return True
    except OSError:
        return False


def require(server: str, flag: str, url: str, port: int) -> None:
    if reachable(url, port):
        return
    parts = urlsplit(url)
    reason = f"{server} is not answering at {parts.hostname}:{parts.port or port}"
    if os.environ.get(flag):
        pytest.fail(f"{reason}, and {flag} is set", pytrace=False)
    pytest.skip(f"{reason} (set {flag}=1 to make this a failure)")


class PostgresDatabases:
    """Creates sets of empty databases, one per owner, and drops every one of them at the end."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.created: list[str] = []

    def new_set(self) -> str:
        """A new set of empty databases; returns its ``PARKHUB_DATABASE_URL_TEMPLATE``."""
        prefix = f"parkhub_t{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            for name in DATABASES:
                admin.execute(f'CREATE DATABASE "{prefix}_{name}"')
                self.created.append(f"{prefix}_{name}")
        server = urlsplit(self.admin_url)
        return f"postgresql+psycopg://{server.netloc}/{prefix}_{{name}}"

    def drop_all(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            for name in self.created:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()
