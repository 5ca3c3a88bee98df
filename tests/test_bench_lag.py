"""Smoke tests of the event-lag benchmark (bench/lag.py; the real run is ``make bench``): both modes
at a tiny rate through the same code as the real run (real workers on PostgreSQL and RabbitMQ, the
embedded platform on SQLite), every event handled, the report rendered into its section of the
page. No timing is asserted: benchmarks report, they do not fail."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import lag
from bench.doc import markers
from tests.servers import POSTGRES_ADMIN_URL, RABBITMQ_URL, require

RATE, SECONDS = 20.0, 1.0


def assert_complete(results: dict[str, dict[str, lag.Lags] | None], mode: str) -> None:
    got = results[mode]
    assert got is not None
    for side in ("baseline", "parkhub"):
        assert got[side].sent == RATE * SECONDS
        assert got[side].handled == got[side].sent, f"{mode} {side}: not every event arrived"
    assert got["parkhub"].relayed is not None
    assert len(got["parkhub"].relayed) == got["parkhub"].sent


def test_embedded_mode_handles_every_event_and_reports(tmp_path: Path) -> None:
    results = lag.run(RATE, SECONDS, postgres=POSTGRES_ADMIN_URL, amqp=RABBITMQ_URL, modes=("embedded",))
    assert_complete(results, "embedded")

    text = lag.report(RATE, SECONDS, results)
    assert "`parkhub serve`'s bus thread, SQLite | 20 of 20 | raw kombu memory:" in text
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text("# Performance\n\n## Idle\n\n<!-- idle:start -->\nidle table\n<!-- idle:end -->\n")
    lag.write(doc, text)
    lag.write(doc, text)  # a second run replaces its section, and only it
    content = doc.read_text()
    assert content.count(markers(lag.BLOCK)[0]) == 1
    assert content.count(text) == 1
    assert "idle table" in content


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.rabbitmq
@pytest.mark.duration(seconds=40)
def test_distributed_mode_handles_every_event() -> None:
    require("PostgreSQL", "PARKHUB_REQUIRE_POSTGRES", POSTGRES_ADMIN_URL, 5432)
    require("RabbitMQ", "PARKHUB_REQUIRE_RABBITMQ", RABBITMQ_URL, 5672)
    results = lag.run(RATE, SECONDS, postgres=POSTGRES_ADMIN_URL, amqp=RABBITMQ_URL, modes=("distributed",))
    assert_complete(results, "distributed")
    assert "`parkhub worker gateway` → `parkhub worker notify` | 20 of 20 |" in lag.report(RATE, SECONDS, results)
