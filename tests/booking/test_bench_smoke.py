"""The availability benchmark's code at a tiny size (the real run is by hand: see
docs/PERFORMANCE.md); it must build, measure, find the index in the plan and write its table."""

from __future__ import annotations

from bench.booking_availability import report, run, write
from bench.doc import markers


def test_the_benchmark_runs_at_a_tiny_size(tmp_path):
    results = run(None, sizes=[60, 300], spaces=20, repeat=1)
    assert [r.size for r in results] == [60, 300]
    assert all(r.timings_ms["baseline: raw indexed SQL, one space"] > 0 for r in results)
    assert "ix_reservations_space_id_hold_start" in results[-1].plan
    table = report(results)
    assert "availability search, all spaces" in table
    target = tmp_path / "PERFORMANCE.md"
    target.write_text("# Performance\n\nIntro.\n")
    write(target, table, "sqlite")
    write(target, table, "sqlite")  # a second run replaces its block
    text = target.read_text()
    start, end = markers("booking-availability:sqlite")
    assert text.count(start) == 1
    assert text.count(end) == 1
    assert text.startswith("# Performance")
