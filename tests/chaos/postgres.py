"""A PostgreSQL cluster of one fault test's own, to stop and start while a platform runs on it.

:class:`tests.test_database_outage.PrivateCluster` (initdb + pg_ctl in a temporary directory, on a
free port, as the ``postgres`` user when run as root) with room for a whole distributed platform's
connections and a stop of a chosen mode. The machine's PostgreSQL is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.servers import PostgresDatabases
from tests.test_database_outage import PrivateCluster, _postgres_bin

MAX_CONNECTIONS = 300
"""Five databases, the gateway and four APIs under gunicorn (2 workers, a pool each), five
workers, the migrations and the test's own readers: more than PostgreSQL's default 100."""


class ChaosCluster(PrivateCluster):
    """A private cluster whose :meth:`stop` takes pg_ctl's shutdown mode."""

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c max_connections={MAX_CONNECTIONS}"
        )
        log = str(self.root / "log")
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: every session is ended at once (clients see their connections cut), what
        was committed stays; ``immediate``: the server dies without a checkpoint, as on a crash,
        and recovers from its WAL at the next start."""
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def databases(self) -> PostgresDatabases:
        """Hands out sets of fresh databases on this cluster, as the suite's fixture does on the machine's."""
        return PostgresDatabases(self.admin_url)


@contextmanager
def private_cluster() -> Iterator[ChaosCluster]:
    """A started cluster, stopped (immediate) and removed at the end whatever happened."""
    bindir = _postgres_bin()
    if bindir is None:
        if os.environ.get("PARKHUB_REQUIRE_POSTGRES"):
            pytest.fail("initdb is not installed, and PARKHUB_REQUIRE_POSTGRES is set", pytrace=False)
        pytest.skip("initdb is not installed (set PARKHUB_REQUIRE_POSTGRES=1 to make this a failure)")
    cluster = ChaosCluster(bindir)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        subprocess.run(
            [*cluster.as_postgres, str(bindir / "pg_ctl"), "-D", str(cluster.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(cluster.root, ignore_errors=True)
