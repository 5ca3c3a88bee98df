"""``parkhub serve`` killed with -9 mid-stream, then started again on the same var/, loses no event
and applies none twice: the embedded counterpart of the distributed process kills.

Unlike tests/e2e/test_embedded_crash.py (organisations only, directories checked over HTTP) the
stream here mixes organisations registered and renamed, reservations, consulting cases and finance
applications (:class:`tests.chaos.rig.Stream`), and the counts are per event type
(:mod:`tests.chaos.counts`): every committed operation (a 2xx, or an unanswered one whose row is
in its SQLite database) has its event in the outbox, every event is in the inbox of every
subscriber of its type, no handler ran twice (one inbox row, one notification per recipient, one
timeline entry per event, directories at the gateway's version), no dead letters.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.chaos import report
from tests.chaos.counts import Databases, watermarks
from tests.chaos.rig import Stream, converge, serve_embedded, summary
from tests.ports import free_port

pytestmark = [pytest.mark.slow, pytest.mark.chaos]

REPO = Path(__file__).resolve().parents[2]
CONVERGE_SECONDS = 60.0


def parkhub(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "parkhub_cli", *args], cwd=REPO, env=env, capture_output=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stdout.decode()[-3000:] + done.stderr.decode()[-3000:]


@pytest.mark.duration(seconds=120)
def test_a_killed_embedded_platform_loses_no_event_of_any_kind(tmp_path: Path) -> None:
    started = time.monotonic()
    var = tmp_path / "var"
    metrics = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARKHUB_")},
        "PARKHUB_VAR_DIR": str(var),
        "PARKHUB_RATE_LIMIT": "1000000/minute",
        "PARKHUB_METRICS_PORT": str(metrics),
    }
    parkhub(env, "migrate")
    parkhub(env, "seed")
    port = free_port()
    log = tmp_path / "serve.log"
    server = serve_embedded(env, port, log)
    databases = Databases(lambda name: f"sqlite:///{var}/{name}.db")
    stream: Stream | None = None
    try:
        marks = watermarks(databases)
        stream = Stream(f"http://127.0.0.1:{port}", uuid.uuid4().hex[:6])
        stream.start()
        stream.wait_for_operations(40, 40)
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
        killed_at = len(stream.ledger.operations)
        time.sleep(1.0)  # the stream meets a dead server meanwhile
        server = serve_embedded(env, port, log)
        restarted = time.monotonic()
        stream.refresh_tokens()
        stream.wait_for_operations(len(stream.ledger.operations) + 40, 40)
        stream.stop()
        assert not stream.errors, stream.errors
        counts, took = converge(
            stream.ledger,
            databases,
            marks,
            CONVERGE_SECONDS,
            probe=None,
            metrics=[f"http://127.0.0.1:{metrics}/metrics"],
        )
        print(
            f"\nembedded kill after {killed_at} operations: {summary(counts, stream.ledger)};"
            f" converged {took:.1f} s after the stream ended, {time.monotonic() - restarted:.1f} s after the restart"
        )
        report.record(
            "kill-embedded",
            "kill -9 of parkhub serve (embedded mode), mid-stream, restarted on the same var/",
            counts.table(),
            seconds=time.monotonic() - started,
        )
        assert len({op.kind for op in stream.ledger.committed()}) == len(Stream.KINDS) + 1
        assert not counts.problems(), "\n".join(counts.problems()[:30])
    finally:
        if stream is not None:
            stream.stop()
        databases.dispose()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(5)
