"""The real servers of the distributed mode: this machine's PostgreSQL and RabbitMQ.

Locally, a server that is down skips its tests with a reason; with ``PARKHUB_REQUIRE_POSTGRES`` /
``PARKHUB_REQUIRE_RABBITMQ`` set (``.ci/run`` sets both) it fails them instead. Each test session
works in databases of its own (``parkhub_t<random>_<name>``) and in bus namespaces of its own, and
drops them all at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kombu import Connection

import parkhub_cli
from shared.bus.transport import delete_namespace
from shared.settings import Settings
from tests.servers import RABBITMQ_URL, PostgresDatabases, require


@pytest.fixture(scope="session")
def postgres_url_template(postgres_databases: PostgresDatabases) -> str:
    """This session's empty databases, as a ``PARKHUB_DATABASE_URL_TEMPLATE``."""
    return postgres_databases.new_set()


class BusNamespaces:
    """Hands out bus namespaces and deletes their queues and exchange at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = f"t{uuid.uuid4().hex[:8]}"
        self.namespaces: list[str] = []

    def new(self) -> str:
        namespace = f"{self.session}-{len(self.namespaces)}"
        self.namespaces.append(namespace)
        return namespace

    def delete_all(self) -> None:
        # Every handler's queue and retry queue of the platform's topology, as `parkhub migrate`
        # declares them.
        topology = parkhub_cli._topology()
        with Connection(self.url, connect_timeout=5) as connection:
            for namespace in self.namespaces:
                delete_namespace(connection, namespace, topology)
        self.namespaces.clear()


@pytest.fixture(scope="session")
def rabbitmq_url() -> str:
    require("RabbitMQ", "PARKHUB_REQUIRE_RABBITMQ", RABBITMQ_URL, 5672)
    return RABBITMQ_URL


@pytest.fixture(scope="session")
def bus_namespaces(rabbitmq_url: str) -> Iterator[BusNamespaces]:
    namespaces = BusNamespaces(rabbitmq_url)
    try:
        yield namespaces
    finally:
        namespaces.delete_all()


@pytest.fixture
def bus_namespace(bus_namespaces: BusNamespaces) -> str:
    """A namespace of this test's own on this session's broker (queues ``<ns>.<service>``)."""
    return bus_namespaces.new()


def distributed_env(url_template: str, bus_url: str, namespace: str, var_dir: Path, **env: str) -> dict[str, str]:
    """``PARKHUB_*`` variables of the distributed mode on this machine's servers."""
    return {
        "PARKHUB_VAR_DIR": str(var_dir),
        "PARKHUB_DATABASE_URL_TEMPLATE": url_template,
        "PARKHUB_BUS_URL": bus_url,
        "PARKHUB_BUS_NAMESPACE": namespace,
        "PARKHUB_RETRY_ATTEMPTS": "3",
        "PARKHUB_RETRY_BASE_SECONDS": "0.01",
        **env,
    }


def distributed_settings(url_template: str, bus_url: str, namespace: str, var_dir: Path, **env: str) -> Settings:
    return Settings.from_env(distributed_env(url_template, bus_url, namespace, var_dir, **env))


def nginx_binary() -> str:
    """nginx's path; skips without it, or fails when ``PARKHUB_REQUIRE_NGINX`` is set."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if binary is None:
        if os.environ.get("PARKHUB_REQUIRE_NGINX"):
            pytest.fail("nginx is not installed, and PARKHUB_REQUIRE_NGINX is set", pytrace=False)
        pytest.skip("nginx is not installed (apt-get install nginx; .ci/run does)")
    return binary
