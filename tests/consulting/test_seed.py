"""Consulting's demo seed on migrated databases: the park's catalogue (every category with items and
at least one firm), valid intake forms and SLA policies, the calendar's hours and the official
years from this one on, stable item ids; a second run changes nothing and keeps what was changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from services.consulting import seed as demo
from services.consulting.models import CalendarSettings, CalendarYear, Category, FirmCategory, ServiceItem, database
from services.consulting.queries.calendar import DEFAULT_HOURS, park_today
from services.consulting.rules.catalogue import check_sla_policy
from services.consulting.rules.intake import check_intake_fields
from shared.holidays import covered_years
from shared.settings import Settings

ORGANISATIONS = {name: f"00000000-0000-4000-8000-0000000005{i:02d}" for i, name in enumerate(demo.FIRM_CATEGORIES)}


def snapshot(settings: Settings) -> dict[str, Any]:
    db = database(settings)
    with db.reading() as session:
        return {
            "categories": sorted((c.code, c.name, c.routing, c.version) for c in session.scalars(select(Category))),
            "items": sorted((i.id, i.code, i.name, i.version) for i in session.scalars(select(ServiceItem))),
            "firms": sorted((f.firm_org_id, f.category_code) for f in session.scalars(select(FirmCategory))),
            "years": sorted((y.year, y.source) for y in session.scalars(select(CalendarYear))),
            "hours": [(s.hours, s.version) for s in session.scalars(select(CalendarSettings))],
        }


def test_the_seed_loads_the_park_s_catalogue(settings: Settings) -> None:
    lines = demo.seed(settings, ORGANISATIONS)
    assert lines[0] == "Consulting:"
    state = snapshot(settings)
    assert [c[0] for c in sorted(state["categories"], key=lambda c: c[0])] == sorted(
        ["industry_and_commerce", "taxation", "legal", "intellectual_property", "human_resources", "biomedical"]
    )
    routing = {code: rule for code, _, rule, _ in state["categories"]}
    assert routing["intellectual_property"] == "round_robin" and routing["biomedical"] == "least_load"
    assert routing["legal"] == "manual"
    db = database(settings)
    session = db.session()
    items = list(session.scalars(select(ServiceItem)))
    served = {f.category_code for f in session.scalars(select(FirmCategory))}
    session.close()  # closing detaches without expiring: the rows stay readable
    by_category: dict[str, list[ServiceItem]] = {}
    for item in items:
        by_category.setdefault(item.category_code, []).append(item)
    assert set(by_category) == set(routing) == served  # every category has items and a firm
    biomedical = {i.code for i in by_category["biomedical"]}
    assert {"cro_research", "safety_pharmacology", "clinical_trial", "regulatory_filing", "cdmo_sourcing"} <= biomedical
    assert "cso_marketing" in biomedical
    for item in items:
        assert check_intake_fields(item.intake_fields) == item.intake_fields
        assert check_sla_policy(item.sla_policy) == item.sla_policy
        assert item.name_zh and item.fee_guidance and item.fee_guidance_zh
        assert item.id == demo.item_id(item.code) == demo.ITEM_IDS[item.code]
        if item.fee_from is not None and item.fee_to is not None:
            assert item.fee_from <= item.fee_to
    paid = [i for i in items if i.fee_from is not None and i.fee_from > 0]
    assert paid and all(i.quote_required for i in paid)
    assert demo.PATENT_APPLICATION == demo.item_id("patent_application")

    firms = {org for org, _ in state["firms"]}
    assert firms == set(ORGANISATIONS.values())  # law, accounting, IP, HR, CRO, CDMO
    assert state["hours"] == [(DEFAULT_HOURS, 1)]
    this_year = park_today().year
    assert [y for y, _ in state["years"]] == [y for y in covered_years() if y >= this_year]
    assert {source for _, source in state["years"]} <= {"chinesecalendar"}


def test_seeding_twice_changes_nothing_and_keeps_what_was_changed(settings: Settings) -> None:
    demo.seed(settings, ORGANISATIONS)
    db = database(settings)
    with db.unit_of_work() as uow:  # park admin renamed an item meanwhile
        item = uow.session.get(ServiceItem, demo.PATENT_APPLICATION)
        assert item is not None
        item.name = "Patent filing"
        uow.commit()
    before = snapshot(settings)
    demo.seed(settings, ORGANISATIONS)
    assert snapshot(settings) == before
    with db.reading() as session:
        assert session.get(ServiceItem, demo.PATENT_APPLICATION).name == "Patent filing"  # type: ignore[union-attr]


def test_a_firm_missing_from_the_directory_is_reported_and_skipped(settings: Settings) -> None:
    some = {demo.LAW_FIRM: ORGANISATIONS[demo.LAW_FIRM]}
    lines = demo.seed(settings, some)
    assert any(demo.CDMO in line and "not in the directory" in line for line in lines)
    assert {org for org, _ in snapshot(settings)["firms"]} == {ORGANISATIONS[demo.LAW_FIRM]}
