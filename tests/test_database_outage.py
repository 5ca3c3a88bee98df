"""A database that goes away: requests fail fast with a 503 the client can retry, and the service
recovers by itself when the database is back.

The outage is real and private: the test starts its own PostgreSQL cluster (initdb + pg_ctl on a
free port, as the ``postgres`` user when run as root), stops it and starts it again. The machine's
PostgreSQL is never touched.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from glob import glob
from pathlib import Path

import jwt
import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import exc as sa
from werkzeug.test import Client

from migrations import upgrade
from shared.http.problems import database_unavailable
from shared.settings import Settings
from tests.conftest import make_settings
from tests.ports import free_port

pytestmark = pytest.mark.postgres
BASE = "https://parkhub.tianfu-lifescience.cn/problems/"
KID = "outage-test"


def _postgres_bin() -> Path | None:
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivateCluster:
    """A PostgreSQL cluster of this test alone, in a temporary directory, on a free port."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="parkhub-outage-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    def run(self, *command: str) -> None:
        subprocess.run([*self.as_postgres, *command], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self.run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


@pytest.fixture
def cluster() -> Iterator[PrivateCluster]:
    bindir = _postgres_bin()
    if bindir is None:
        if os.environ.get("PARKHUB_REQUIRE_POSTGRES"):
            pytest.fail("initdb is not installed, and PARKHUB_REQUIRE_POSTGRES is set", pytrace=False)
        pytest.skip("initdb is not installed (set PARKHUB_REQUIRE_POSTGRES=1 to make this a failure)")
    cluster = PrivateCluster(bindir)
    cluster.init()
    cluster.start()
    try:
        yield cluster
    finally:
        subprocess.run(
            [*cluster.as_postgres, str(bindir / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(cluster.root, ignore_errors=True)


def signed_in(settings: Settings) -> str:
    """A park admin's access token, with its public key written where the service looks for it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public.update(kid=KID, use="sig", alg="RS256")
    settings.keys_dir.mkdir(parents=True, exist_ok=True)
    (settings.keys_dir / "jwks.json").write_text(json.dumps({"keys": [public]}))
    now = int(time.time())
    claims = {
        "sub": "user:admin",
        "org": str(uuid.uuid4()),
        "org_kind": "operator",
        "roles": ["park_admin"],
        "type": "access",
        "iss": settings.issuer,
        "aud": settings.audience,
        "iat": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": KID})


def test_a_stopped_database_is_a_503_that_recovers_by_itself(
    cluster: PrivateCluster, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from services.booking.app import create_app

    with psycopg.connect(cluster.url("postgres").replace("+psycopg", ""), autocommit=True) as admin:
        admin.execute("CREATE DATABASE booking")
    settings = make_settings(tmp_path / "var", PARKHUB_DB_BOOKING=cluster.url("booking"))
    upgrade("booking", settings.database_url("booking"))
    client = Client(create_app(settings))
    headers = {"Authorization": f"Bearer {signed_in(settings)}"}
    letters = "/api/v1/booking/dead-letters"
    replay = "/api/v1/booking/dead-letters/1/replay"

    assert client.get(letters, headers=headers).status_code == 200
    assert client.post(replay, headers=headers).status_code == 404  # the database answers: no such letter

    cluster.stop()
    caplog.clear()
    for method, path in (("GET", letters), ("POST", replay)):
        started = time.monotonic()
        response = client.open(path, method=method, headers=headers)
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.content_type == "application/problem+json"
        assert response.headers["Retry-After"] == "5"
        assert response.json["type"] == BASE + "database-unavailable"
        assert "psycopg" not in response.json["detail"]
        assert elapsed < 5, f"{method} took {elapsed:.1f} s while the database was away"
    zh = client.get(letters, headers={**headers, "Accept-Language": "zh-CN"})
    assert zh.status_code == 503
    assert zh.json["title"] == "服务暂不可用"
    outage_lines = [r for r in caplog.records if r.name == "shared.http.problems"]
    assert len(outage_lines) == 3  # one line per refused request
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in outage_lines)

    cluster.start()
    deadline = time.monotonic() + 15
    status = 0
    while time.monotonic() < deadline:
        status = client.get(letters, headers=headers).status_code
        if status == 200:
            break
        time.sleep(0.2)
    assert status == 200, "the service did not recover within 15 s of the database's return"
    assert client.post(replay, headers=headers).status_code == 404


def test_a_database_where_nothing_listens_is_a_503(tmp_path: Path) -> None:
    from services.booking.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    settings = make_settings(
        tmp_path / "var", PARKHUB_DB_BOOKING=f"postgresql+psycopg://postgres@127.0.0.1:{port}/booking"
    )
    client = Client(create_app(settings))
    response = client.get("/api/v1/booking/dead-letters", headers={"Authorization": f"Bearer {signed_in(settings)}"})
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.json["type"] == BASE + "database-unavailable"


@pytest.mark.parametrize(
    ("message", "away"),
    [
        ("unable to open database file", True),
        ("database is locked", True),
        ("disk I/O error", True),
        ('near "SELEC": syntax error', False),  # SQLite raises OperationalError for our own mistakes too
        ("no such column: colour", False),
    ],
)
def test_only_sqlites_file_errors_count_as_an_outage(message: str, away: bool) -> None:
    error = sa.OperationalError("SELECT 1", {}, sqlite3.OperationalError(message))
    assert database_unavailable(error) is away
