"""``/api/v1/health`` while the gateway's PostgreSQL is away: a 503 problem with ``Retry-After``
carrying the report (database down), never a 500, and 200 again by itself once the database is back.

The gateway reaches this machine's PostgreSQL through a TCP relay the test owns: stopping the
relay refuses every connection and cuts the open ones, as a stopped server does, without
touching the server that others use.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gateway.app import create_app
from gateway.keys import generate_private_pem
from gateway.upstreams import InProcessUpstreams
from migrations import upgrade
from shared.settings import Settings
from tests.ports import free_port

pytestmark = [pytest.mark.postgres]


class TcpRelay:
    """Forwards a local port to PostgreSQL; :meth:`stop` is the outage, :meth:`start` the return."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            if self._listener is not None:
                # shutdown, not just close: it wakes the thread blocked in accept() (Linux)
                try:
                    self._listener.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self._listener.close()
                self._listener = None
            for sock in self._open:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            server = socket.create_connection(self.target, timeout=5)
            server.settimeout(None)
            with self._lock:
                self._open += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def relay(postgres_url_template: str) -> Iterator[TcpRelay]:
    server = urlsplit(postgres_url_template.replace("postgresql+psycopg", "postgresql"))
    relay = TcpRelay((server.hostname or "127.0.0.1", server.port or 5432))
    relay.start()
    yield relay
    relay.stop()


def test_health_answers_503_with_the_database_down_and_recovers_by_itself(
    postgres_url_template: str, relay: TcpRelay, tmp_path: Path
) -> None:
    upgrade("gateway", postgres_url_template.format(name="gateway"))
    through_relay = postgres_url_template.replace("@127.0.0.1/", f"@127.0.0.1:{relay.port}/").replace(
        "@127.0.0.1:5432/", f"@127.0.0.1:{relay.port}/"
    )
    assert str(relay.port) in through_relay
    settings = Settings.from_env(
        {
            "PARKHUB_VAR_DIR": str(tmp_path / "var"),
            "PARKHUB_DB_GATEWAY": through_relay.format(name="gateway"),
            "PARKHUB_SIGNING_KEY": generate_private_pem(2048).decode(),
        }
    )
    app = create_app(settings, upstreams=InProcessUpstreams({}), bus_health=lambda: {"status": "ok"})
    client = app.test_client()

    up = client.get("/api/v1/health")
    assert up.status_code == 200, up.get_data(as_text=True)
    assert up.json["services"]["gateway"]["outbox"]["pending"] == 0

    relay.stop()
    down = client.get("/api/v1/health")
    assert down.status_code == 503, down.get_data(as_text=True)
    assert down.mimetype == "application/problem+json" and down.json["type"].endswith("/problems/unavailable")
    assert int(down.headers["Retry-After"]) > 0
    gateway = down.json["services"]["gateway"]
    assert gateway["status"] == "degraded"
    assert gateway["database"]["status"] == "down"
    assert "error" in gateway["outbox"]

    relay.start()
    deadline = time.monotonic() + 15
    while (again := client.get("/api/v1/health")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert again.status_code == 200, again.get_data(as_text=True)
    assert again.json["services"]["gateway"]["database"]["status"] == "ok"
