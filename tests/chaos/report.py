"""The counts the fault tests measure, kept for docs/RELIABILITY.md.

Each fault test calls :func:`record` with its scenario and one row per event type (or per
request kind): what was committed, published, confirmed and received by every subscriber, what
was dropped as a duplicate and what went to the dead letters. The rows go to a JSON file
(``PARKHUB_CHAOS_REPORT``, by default ``var/chaos-report.json``); ``python -m tests.chaos.report
--write docs/RELIABILITY.md`` puts them in the page between its two markers, so the page always
shows the counts of the last ``make chaos``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BEGIN = "<!-- chaos counts: begin (written by make chaos) -->"
END = "<!-- chaos counts: end -->"


def report_path() -> Path:
    return Path(os.environ.get("PARKHUB_CHAOS_REPORT") or REPO / "var" / "chaos-report.json")


def record(scenario: str, title: str, rows: list[dict[str, Any]], *, seconds: float | None = None) -> None:
    """Keep ``rows`` (one dict per event type or request kind, the same keys in each) under
    ``scenario`` (a test's short name), replacing the scenario's earlier rows. Safe from
    several test processes at once (an exclusive lock on the file)."""
    path = report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read()
        scenarios = json.loads(text) if text.strip() else {}
        scenarios[scenario] = {
            "title": title,
            "rows": rows,
            "seconds": None if seconds is None else round(seconds, 1),
            "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
        handle.seek(0)
        handle.truncate()
        json.dump(scenarios, handle, ensure_ascii=False, indent=1)


def render(scenarios: dict[str, Any]) -> str:
    """The scenarios as Markdown: a heading and a table each, in the order of their names."""
    parts: list[str] = []
    for name in sorted(scenarios):
        scenario = scenarios[name]
        took = f", {scenario['seconds']} s" if scenario.get("seconds") is not None else ""
        parts.append(f"#### {scenario['title']}\n\n`{name}`, measured {scenario['at']}{took}.\n")
        rows = scenario["rows"]
        if not rows:
            parts.append("(no rows)\n")
            continue
        columns = list(rows[0])
        parts.append("| " + " | ".join(columns) + " |")
        parts.append("|" + " --- |" * len(columns))
        parts.extend("| " + " | ".join(str(row.get(column, "")) for column in columns) + " |" for row in rows)
        parts.append("")
    return "\n".join(parts)


def write(page: Path, scenarios: dict[str, Any]) -> None:
    """Replace what is between the page's markers with the rendered scenarios."""
    text = page.read_text(encoding="utf-8")
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    if not rest:
        raise SystemExit(f"{page} has no chaos-count markers ({BEGIN})")
    page.write_text(f"{head}{BEGIN}\n\n{render(scenarios)}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", type=Path, required=True, help="the page to update (docs/RELIABILITY.md)")
    args = parser.parse_args()
    path = report_path()
    scenarios = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    write(args.write, scenarios)
    print(f"{len(scenarios)} scenarios written to {args.write}")


if __name__ == "__main__":
    main()
