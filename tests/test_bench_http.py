"""The side-by-side HTTP benchmark's own parts (the real run is by hand or ``make bench``:
docs/PERFORMANCE.md): its tables land in their section of the doc and replace themselves, its wrk
script counts what the server answered and never sends one slot or key twice, and a tiny run of
the whole bench against the embedded platform goes through (no timing asserted)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from bench.http import (
    PARK_TZ,
    REPO,
    SECTION,
    Figures,
    Measure,
    Memory,
    Table,
    main,
    memory_report,
    report,
    write,
    wrk,
)
from tests.ports import free_port

DOC = """# Performance

Intro.

## Booking: availability search

Someone else's figures.

## Event bus

<!-- bus:start -->
bus table
<!-- bus:end -->
"""


def a_table(commit: str, create_rate: float, bare_post: float) -> Table:
    create = Figures(
        "reservation create, distinct free slots", "POST", int(create_rate * 10), 10.0, 5.0, 50.0,
        {"201": int(create_rate * 10)}, 0, [60, 40], bare_post, 1.0, 3.0, 25,
    )  # fmt: skip
    return Table(
        mode="distributed",
        commit=commit,
        when="2026-11-30 09:00 +0800",
        duration=10,
        warmup=2,
        workers=2,
        load=(0.5, 0.7),
        figures=[create],
        memory=[Memory("api-booking", "master", 1, 60.0), Memory("api-booking", "worker", 2, 151.0)],
        slots=(100, 6708),
    )


def test_the_tables_go_into_their_own_section_and_replace_themselves(tmp_path: Path) -> None:
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text(DOC)
    first = a_table("aaaaaaa", 500, 4000)
    write(doc, {"distributed": report(first), "memory": memory_report([first])})
    second = a_table("bbbbbbb", 1500, 4000)
    write(doc, {"distributed": report(second), "memory": memory_report([second])})  # replaces the first
    text = doc.read_text()
    assert text.count(SECTION) == 1
    assert text.count("<!-- http:distributed:start -->") == 1 and "aaaaaaa" not in text and "bbbbbbb" in text
    row = next(line for line in text.splitlines() if line.startswith("| reservation create"))
    assert "| 1,500.0 | 5.0 ms | 50.0 ms | 4,000, 1.0 ms, 3.0 ms | 37.5 % | ≥ 25 % | met | 60:40 |" in row
    assert "| distributed | api-booking | worker | 151 | **missed** |" in text
    assert text.replace(text[text.index("\n\n" + SECTION) :], "\n") == DOC  # the others' sections untouched


def test_a_missed_target_and_failures_are_shown() -> None:
    table = a_table("ccccccc", 100, 4000)
    table.figures[0].statuses = {"201": 990, "409": 10}
    row = next(line for line in report(table).splitlines() if line.startswith("| reservation create"))
    assert "| 2.5 % | ≥ 25 % | **missed** (10 non-2xx/errors" in row


@pytest.mark.slow
def require_wrk() -> None:
    """wrk runs these tests; locally a missing wrk skips them, in CI (PARKHUB_REQUIRE_WRK) it fails them."""
    if shutil.which("wrk"):
        return
    if os.environ.get("PARKHUB_REQUIRE_WRK"):
        pytest.fail("wrk is not installed, and PARKHUB_REQUIRE_WRK is set", pytrace=False)
    pytest.skip("wrk is not installed (set PARKHUB_REQUIRE_WRK=1 to make this a failure)")


def test_the_wrk_script_counts_statuses_and_the_slots_it_went_through(tmp_path: Path) -> None:
    require_wrk()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.bare", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/bare", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the bare app did not start"
            time.sleep(0.1)

        creates = ["create", "{first}", "2", "1767196800", "86", "9", "13", "nonce", "space-a", "space-b"]
        posted = wrk(
            f"http://127.0.0.1:{port}/bare",
            Measure("post", "bare", "/bare", "POST", creates, {"Content-Type": "application/json"}),
            1,
            500,
        )
        assert posted["requests"] > 0 and posted["statuses"] == {"201": posted["requests"]}
        assert posted["slots_sent"] >= posted["requests"]
        missing = wrk(
            f"http://127.0.0.1:{port}/nowhere", Measure("404", "bare", "/nowhere", "GET", ["fixed", "GET"]), 1, 0
        )
        assert missing["requests"] > 0 and missing["statuses"] == {"404": missing["requests"]}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=15)


def test_creates_never_send_one_slot_twice_across_runs() -> None:
    """The warm-up and the measured run each start past the slots the previous one went through:
    no two bodies name the same space and start, no two share an Idempotency-Key, and every slot
    is a 30-minute one on the hour, 09:00-21:00 park time, from the first day on."""
    require_wrk()
    seen: list[tuple[str, dict[str, object]]] = []
    lock = threading.Lock()

    class Recorder(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with lock:
                seen.append((self.headers["Idempotency-Key"], body))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = int(datetime(2027, 1, 4, tzinfo=PARK_TZ).timestamp())
    creates = ["create", "{first}", "2", str(base), "86", "9", "13", "n", "room-a", "room-b", "room-c"]
    measure = Measure("create", "bare", "/", "POST", creates, {"Content-Type": "application/json"})
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        warm = wrk(url, measure, 1, 0)
        measured = wrk(url, measure, 1, warm["slots_sent"])
    finally:
        server.shutdown()
        server.server_close()
    assert warm["statuses"] == {"201": warm["requests"]} and measured["requests"] > 0
    assert len(seen) >= warm["requests"] + measured["requests"]
    keys = Counter(key for key, _ in seen)
    slots = Counter((body["space_id"], body["start"]) for _, body in seen)
    assert keys.most_common(1)[0][1] == 1 and slots.most_common(1)[0][1] == 1
    first_day = datetime(2027, 1, 4, tzinfo=PARK_TZ)
    for _, body in seen:
        start, end = datetime.fromisoformat(str(body["start"])), datetime.fromisoformat(str(body["end"]))
        assert start.utcoffset() == timedelta(hours=8) and end - start == timedelta(minutes=30)
        assert 9 <= start.hour <= 21 and start.minute == 0 and start >= first_day
        assert body["space_id"] in ("room-a", "room-b", "room-c") and body["attendees"] == 6


def test_keyed_creates_never_send_one_key_twice_across_runs() -> None:
    """A consulting case or finance draft: the same body, and a key of its own on every request,
    warm-up and measured run included (each run draws its own prefix)."""
    require_wrk()
    keys: list[str] = []
    lock = threading.Lock()

    class Recorder(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            assert body == {"subject": "s"}
            with lock:
                keys.append(self.headers["Idempotency-Key"])
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    measure = Measure("case", "bare", "/", "POST", ["keyed", "POST", '{"subject": "s"}', "{run}"])
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        first, second = wrk(url, measure, 1, 0), wrk(url, measure, 1, 0)
    finally:
        server.shutdown()
        server.server_close()
    assert first["statuses"] == {"201": first["requests"]} and second["requests"] > 0
    assert len(keys) >= first["requests"] + second["requests"]
    assert Counter(keys).most_common(1)[0][1] == 1


@pytest.mark.slow
@pytest.mark.duration(seconds=45)
def test_a_tiny_run_of_the_bench_against_the_embedded_platform(tmp_path: Path) -> None:
    """The whole bench, one measure, one second: the platform comes up, the measure and its bare
    baseline run, the memory of every process is read, the doc gets its blocks (no timing asserted)."""
    require_wrk()
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text(DOC)
    tables = main(
        ["--mode", "embedded", "--duration", "1", "--warmup", "0", "--only", "reservation by id", "--write", str(doc)]
    )
    (table,) = tables
    assert [f.name for f in table.figures] == ["one reservation by id"]
    assert table.figures[0].usable and table.figures[0].bare_rate > 0
    assert {m.process for m in table.memory} == {"embedded", "bare"} and all(m.rss_mb > 0 for m in table.memory)
    text = doc.read_text()
    assert "<!-- http:embedded:start -->" in text and "<!-- http:memory:start -->" in text
