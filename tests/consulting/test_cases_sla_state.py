"""``sla_state`` in the case lists: the worst of the clocks each reader may see, as the breach job
last found them, one query for the page; and the ``sla_state`` filter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from shared.db import Database
from tests.booking.conftest import Api
from tests.consulting.conftest import LAW, LAW2
from tests.consulting.test_breaches import run
from tests.consulting.test_sla import move, new_case, park


def states(api: Api, user: str, query: str = "") -> dict[str, Any]:
    answer = api.get(f"/cases{query}", user=user)
    assert answer.status_code == 200, answer.json
    return {case["id"]: case["sla_state"] for case in answer.json["items"]}


def test_each_reader_sees_the_worst_state_of_the_clocks_they_may_see(api: Api, db: Database) -> None:
    late = new_case(db, park("2026-11-16 09:00"))
    move(db, late, "triage", "triaged", park("2026-11-16 09:05"))  # meets the tenant's first response
    move(db, late, "assign", "assigned", park("2026-11-16 09:06"), firm_org_id=LAW)
    fresh = new_case(db, park("2026-11-16 11:00"))
    assert run(db, park("2026-11-16 11:07")) == 1  # the firm's first response of `late` alone
    assert states(api, "desk") == {late: "breached", fresh: "running"}
    assert states(api, "lawyer") == {late: "breached"}  # its own clock
    assert states(api, "alice") == {late: "running", fresh: "running"}  # the tenant's clocks only
    move(db, late, "assign", "assigned", park("2026-11-16 11:30"), firm_org_id=LAW2)
    assert states(api, "lawyer3") == {late: "running"}  # the firm replaced's miss is not the next firm's
    assert states(api, "desk")[late] == "running"  # the stopped clock counts no more


def test_the_list_filters_by_the_state_the_caller_sees(api: Api, db: Database) -> None:
    late = new_case(db, park("2026-11-16 09:00"))
    move(db, late, "triage", "triaged", park("2026-11-16 09:05"))
    move(db, late, "assign", "assigned", park("2026-11-16 09:06"), firm_org_id=LAW)
    fresh = new_case(db, park("2026-11-16 11:00"))
    run(db, park("2026-11-16 11:07"))
    assert list(states(api, "desk", "?sla_state=breached")) == [late]
    assert list(states(api, "desk", "?sla_state=running")) == [fresh]
    assert states(api, "alice", "?sla_state=breached") == {}  # the firm's miss is not the tenant's to find
    refused = api.get("/cases?sla_state=late", user="desk")
    assert refused.status_code == 422 and "sla_state" in refused.json["errors"]


def test_a_page_reads_its_states_in_one_query(api: Api, db: Database) -> None:
    for hour in range(9, 15):
        new_case(db, park(f"2026-11-16 {hour:02d}:00"))
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "sla_clocks" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert len(states(api, "desk")) == 6
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1


def test_a_list_reads_as_many_statements_for_one_case_as_for_many(api: Api, db: Database) -> None:
    def statements() -> int:
        seen: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert api.get("/cases", user="desk").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    new_case(db, park("2026-11-16 09:00"))
    statements()  # warm up
    one = statements()
    for hour in range(10, 17):
        new_case(db, park(f"2026-11-16 {hour:02d}:00"))
    assert statements() == one
