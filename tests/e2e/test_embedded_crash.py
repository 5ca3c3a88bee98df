"""``parkhub serve`` killed with -9 while organisations are being registered loses no event.

A real process on loopback: migrate, seed, serve; register organisations one after another; kill
the server mid-stream; start it again on the same var/; every organisation that was answered 201
reaches every service's directory, and no handler ran twice (the inboxes hold one row per event).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.ports import free_port

pytestmark = pytest.mark.slow
SERVICES = ("booking", "consulting", "finance", "notify")


def parkhub(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "parkhub_cli", *args], env=env, check=True, capture_output=True, timeout=120)


def start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "parkhub_cli", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return process
        except requests.ConnectionError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"parkhub serve did not become healthy:\n{log.read_text()[-3000:]}")


@pytest.mark.duration(seconds=45)
def test_a_killed_embedded_platform_loses_no_event(tmp_path: Path) -> None:
    env = {**os.environ, "PARKHUB_VAR_DIR": str(tmp_path / "var"), "PARKHUB_RATE_LIMIT": "100000/minute"}
    parkhub(env, "migrate")
    parkhub(env, "seed")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    server = start(env, port, log)
    registered: list[str] = []
    try:
        token = requests.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": "admin", "password": "parkhub-demo"},
            timeout=5,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        stop = threading.Event()

        def register() -> None:
            for n in range(200):
                if stop.is_set():
                    return
                try:
                    response = requests.post(
                        f"{base}/api/v1/organisations",
                        json={"name": f"Crash Test Biotech {n}", "kind": "tenant"},
                        headers=headers,
                        timeout=5,
                    )
                except requests.RequestException:  # the server died mid-answer
                    return
                if response.status_code == 201:
                    registered.append(response.json()["id"])

        writer = threading.Thread(target=register)
        writer.start()
        deadline = time.monotonic() + 20
        while len(registered) < 15 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
        stop.set()
        writer.join(10)
        assert len(registered) >= 15

        server = start(env, port, log)
        token = requests.post(
            f"{base}/api/v1/auth/token",
            data={"grant_type": "password", "username": "admin", "password": "parkhub-demo"},
            timeout=5,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        missing = {(s, org) for s in SERVICES for org in registered}
        # Bounded, and generous: after the restart every service works through the demo seed's
        # backlog too (notify handles every event), on a machine other tests share.
        deadline = time.monotonic() + 60
        while missing and time.monotonic() < deadline:
            for service, org in sorted(missing):
                url = f"{base}/api/v1/{service}/directory/organisations/{org}"
                if requests.get(url, headers=headers, timeout=5).status_code == 200:
                    missing.discard((service, org))
            time.sleep(0.1)
        assert not missing, f"{len(missing)} directory entries never arrived"
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(10)

    for service in SERVICES:
        with sqlite3.connect(tmp_path / "var" / f"{service}.db") as db:
            handled = db.execute("SELECT count(*), count(DISTINCT event_id) FROM inbox").fetchone()
            letters = db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
        assert handled[0] == handled[1], f"{service} handled an event twice"
        assert letters == 0
