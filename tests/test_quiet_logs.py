"""What a newcomer sees in the terminal: a start with nothing to migrate and a health probe are quiet."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest


def migrate(var: Path) -> list[str]:
    """Run ``parkhub migrate`` as a user would and return the lines it logged and printed."""
    env = {**os.environ, "PARKHUB_VAR_DIR": str(var), "PARKHUB_LOG_LEVEL": "INFO"}
    env.pop("PARKHUB_DATABASE_URL_TEMPLATE", None)
    env.pop("PARKHUB_BUS_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "parkhub_cli", "migrate"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]


@pytest.mark.slow
def test_a_second_migrate_with_nothing_to_do_says_one_line(tmp_path: Path) -> None:
    first = migrate(tmp_path / "var")
    assert any("Running upgrade" in line for line in first), "what is applied is still reported"
    again = migrate(tmp_path / "var")
    assert not [line for line in again if "alembic" in line], again
    assert len(again) <= 2, again


def test_a_health_probe_logs_no_request_lines(park: Any, caplog: pytest.LogCaptureFixture) -> None:
    park.token("alice")  # signed in before the count starts
    caplog.set_level(logging.INFO, logger="parkhub.http")
    caplog.clear()  # whatever the sign-in logged, at whatever level an earlier test left
    assert park.client.get("/api/v1/health").status_code == 200
    requests = [r for r in caplog.records if r.name == "parkhub.http" and r.levelno >= logging.INFO]
    assert requests == []
    # Ordinary traffic is still logged, once per request.
    park.as_user("alice", "GET", "/api/v1/me")
    assert len([r for r in caplog.records if r.name == "parkhub.http" and r.levelno >= logging.INFO]) == 1


def test_logging_follows_the_current_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """A host that swaps sys.stderr after logging was configured (pytest, a daemoniser) must not
    leave every later line failing on a closed stream."""
    from shared.logs import configure_logging

    configure_logging("WARNING")
    logging.getLogger("parkhub.test").warning("first line")
    assert "first line" in capsys.readouterr().err
    elsewhere = io.StringIO()
    stderr, sys.stderr = sys.stderr, elsewhere
    try:
        logging.getLogger("parkhub.test").warning("to the new stream")
    finally:
        sys.stderr = stderr
    assert "to the new stream" in elsewhere.getvalue()
    logging.getLogger("parkhub.test").warning("back again")
    assert capsys.readouterr().err.count("back again") == 1
