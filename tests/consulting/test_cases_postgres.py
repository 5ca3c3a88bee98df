"""Cases on PostgreSQL, where requests and job runs really overlap: submissions at once take
distinct, consecutive numbers (the year's counter row under FOR UPDATE, the first of a year
created in a savepoint); two routing runs at once hand out each turn once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from migrations import upgrade
from services.consulting.commands.cases import ActOnCase, SubmitCase
from services.consulting.handlers.cases import act_on_case, submit_case
from services.consulting.handlers.routing import route_triaged
from services.consulting.models import Case, Category, FirmCategory, directory
from services.consulting.models import database as consulting_database
from shared.db import Database
from shared.principal import Principal
from tests.conftest import make_settings
from tests.consulting.conftest import IPA, Catalogue, load_catalogue, register_organisations
from tests.servers import PostgresDatabases

pytestmark = pytest.mark.postgres

BOB = Principal("user:bob", "00000000-0000-4000-8000-00000000000a", "tenant", frozenset({"tenant_member"}), "Bob Li")
DESK = Principal("user:desk", "00000000-0000-4000-8000-000000000001", "operator", frozenset({"desk_staff"}), "Desk")
MORE_AGENCIES = ("00000000-0000-4000-8000-0000000001b2", "00000000-0000-4000-8000-0000000001b3")


@pytest.fixture
def pg(tmp_path: Path, postgres_databases: PostgresDatabases) -> Iterator[Database]:
    url = postgres_databases.new_set().format(name="consulting")
    upgrade("consulting", url)
    database = consulting_database(make_settings(tmp_path / "var", PARKHUB_DB_CONSULTING=url))
    register_organisations(database)
    load_catalogue(database)
    yield database


def at_once(count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads released together; their answers (or errors)."""
    start = threading.Barrier(count)
    answers: list[Any] = [None] * count

    def run(index: int) -> None:
        start.wait()
        try:
            answers[index] = work(index)
        except Exception as error:  # noqa: BLE001 - the test reports it
            answers[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def submit(database: Database, item_id: str = Catalogue.contract, answers: dict[str, Any] | None = None) -> str:
    with database.unit_of_work() as uow:
        case = submit_case(
            SubmitCase(
                BOB,
                item_id,
                "At once",
                "Submitted at the same moment.",
                {"contract_type": "labour"} if answers is None else answers,
            ),
            uow=uow,
        )
        uow.commit()
    return str(case["number"])


def test_submissions_at_once_take_distinct_consecutive_numbers(pg: Database) -> None:
    numbers = at_once(12, lambda _i: submit(pg))
    assert not [n for n in numbers if isinstance(n, Exception)], numbers
    year = numbers[0].split("-")[1]
    assert sorted(numbers) == [f"C-{year}-{n:05d}" for n in range(1, 13)]


def test_two_routing_runs_at_once_hand_out_each_turn_once(pg: Database) -> None:
    now = datetime.now(UTC)
    with pg.unit_of_work() as uow:
        for firm in MORE_AGENCIES:
            uow.session.execute(
                directory.insert().values(
                    id=firm,
                    name=firm,
                    name_zh=firm,
                    kind="ip_agency",
                    status="active",
                    version=1,
                    updated_at=now,
                )
            )
            uow.session.add(
                FirmCategory(
                    firm_org_id=firm,
                    category_code=Catalogue.ip,
                    declared_by="t",
                    declared_at=now,
                )
            )
        uow.session.get(Category, Catalogue.ip).routing = "manual"  # type: ignore[union-attr]
        uow.commit()
    for _ in range(6):
        submit(pg, Catalogue.patent, {})
    with pg.reading() as session:
        ids = list(session.scalars(select(Case.id).order_by(Case.number)))
    for case_id in ids:
        with pg.unit_of_work() as uow:
            act_on_case(ActOnCase(DESK, case_id, "triage"), uow=uow)
            uow.commit()
    with pg.unit_of_work() as uow:
        uow.session.get(Category, Catalogue.ip).routing = "round_robin"  # type: ignore[union-attr]
        uow.commit()

    def run(_i: int) -> int:
        with pg.unit_of_work() as uow:
            routed = route_triaged(uow=uow)
            uow.commit()
        return routed

    routed = at_once(4, run)
    assert sorted(routed) == [0, 0, 0, 6], routed
    with pg.reading() as session:
        firms = [session.get(Case, i).firm_org_id for i in ids]  # type: ignore[union-attr]
        assert firms == [IPA, *MORE_AGENCIES, IPA, *MORE_AGENCIES]
        assert session.get(Category, Catalogue.ip).last_routed_firm == MORE_AGENCIES[-1]  # type: ignore[union-attr]
