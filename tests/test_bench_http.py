"""The side-by-side HTTP benchmark's own parts (the real run is by hand: docs/PERFORMANCE.md):
its table lands in its section of the doc and replaces itself, before and after are compared
once both exist, and its wrk script counts what the server answered."""

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

from bench.http import BARE_GET, BARE_POST, PARK_TZ, REPO, SECTION, Figures, Measure, Run, free_port, write, wrk

DOC = """# Performance

Intro.

## Booking: availability search

Someone else's figures.

## Event bus

<!-- bus:start -->
bus table
<!-- bus:end -->
"""


def a_run(label: str, commit: str, create_rate: float, bare_post: float) -> Run:
    def figures(name: str, baseline: str, rate: float, bare: float = 0.0) -> Figures:
        return Figures(name, baseline, int(rate * 10), 10.0, 5.0, 50.0, {"201": int(rate * 10)}, 0, [60, 40], bare)

    return Run(
        label=label,
        tree="/somewhere",
        commit=commit,
        when="2026-11-30 09:00 +0800",
        duration=10,
        warmup=2,
        load=(0.5, 0.7),
        figures=[
            figures(BARE_GET, "GET", 5000),
            figures(BARE_POST, "POST", bare_post),
            figures("reservation create, distinct free slots", "POST", create_rate, bare_post),
        ],
        baselines={"GET": [5000], "POST": [bare_post, bare_post]},
        slots=(100, 6708),
    )


def test_the_table_goes_into_its_own_section_and_replaces_itself(tmp_path: Path) -> None:
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text(DOC)
    write(doc, a_run("before", "aaaaaaa", 50, 4000))
    write(doc, a_run("before", "bbbbbbb", 40, 4000))  # a second run replaces the first
    text = doc.read_text()
    assert text.count(SECTION) == 1
    assert text.count("<!-- http:before:start -->") == 1 and "aaaaaaa" not in text and "bbbbbbb" in text
    assert "<!-- http:compare:start -->" not in text  # nothing to compare yet
    row = "| reservation create, distinct free slots | 40.0 | 5.0 ms | 50.0 ms | 1.00 % of bare POST (4,000/s) | 0 |"
    assert row in text
    assert "baseline; its runs: 4,000 · 4,000 /s" in text
    assert text.replace(text[text.index("\n\n" + SECTION) :], "\n") == DOC  # the others' sections untouched


def test_before_and_after_are_compared_once_both_are_there(tmp_path: Path) -> None:
    doc = tmp_path / "PERFORMANCE.md"
    doc.write_text(DOC)
    write(doc, a_run("before", "aaaaaaa", 40, 4000))
    write(doc, a_run("after", "ccccccc", 400, 2000))  # a busier machine: bare POST halved
    text = doc.read_text()
    compare = text.split("<!-- http:compare:start -->", 1)[1].split("<!-- http:compare:end -->", 1)[0]
    assert "Before: `aaaaaaa`" in compare and "after: `ccccccc`" in compare
    row = next(line for line in compare.splitlines() if line.startswith("| reservation create"))
    assert row.endswith("| ×10.0 | ×20.0 |")  # ten times the requests, twenty times the share of bare
    write(doc, a_run("after", "ddddddd", 80, 4000))
    text = doc.read_text()
    assert text.count("<!-- http:compare:start -->") == 1 and "after: `ddddddd`" in text
    assert text.index("<!-- http:before:start -->") < text.index("<!-- http:after:start -->")


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
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class",
         "gthread", "--threads", "4", "--no-control-socket", "bench.bare:create_app()"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
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
            f"http://127.0.0.1:{port}",
            Measure("post", "bare", "/bare", "POST", creates, {"Content-Type": "application/json"}),
            1,
            500,
        )
        assert posted["requests"] > 0 and posted["statuses"] == {"201": posted["requests"]}
        assert posted["slots_sent"] >= posted["requests"]
        missing = wrk(f"http://127.0.0.1:{port}", Measure("404", "bare", "/nowhere", "GET", ["fixed", "GET"]), 1, 0)
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
