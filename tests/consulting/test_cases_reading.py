"""What a case shows people beside its codes: the organisations by name (one shape, one fallback
for an organisation the directory does not hold), the firms that declined it with their names
(staff), who rated it, the answers with the questions' labels; and texts with a NUL refused."""

from __future__ import annotations

from sqlalchemy import delete

from services.consulting.models import directory
from shared.db import Database
from tests.booking.conftest import ORG_A, Api
from tests.consulting.conftest import LAW
from tests.consulting.test_cases_support import case_in, done, submit

ZH = {"Accept-Language": "zh-CN"}


def test_the_answers_are_shown_with_their_questions_in_the_readers_language(api: Api) -> None:
    case = case_in(api, "submitted")
    assert case["answers"] == {"contract_type": "labour", "pages": 12}  # for programs, as they were
    assert case["answers_shown"] == [
        {"code": "contract_type", "label": "Contract type", "value": "labour", "value_label": "Labour"},
        {"code": "pages", "label": "Pages", "value": 12, "value_label": None},
    ]
    chinese = api.get(f"/cases/{case['id']}", user="bob", headers=ZH).json["answers_shown"]
    assert [(a["label"], a["value_label"]) for a in chinese] == [("合同类型", "劳动"), ("页数", None)]


def test_the_firms_that_declined_are_named_for_the_staff(api: Api) -> None:
    case = case_in(api, "assigned")
    done(api, case, "decline", "lawyer", {"reason": "Conflict of interest."})
    desk = api.get(f"/cases/{case['id']}", user="desk", headers=ZH).json
    assert desk["declined_by"] == [LAW]
    assert desk["declined_firms"] == [
        {"id": LAW, "name": "Tianfu Bridge Law Firm", "name_zh": "天府桥律师事务所", "display_name": "天府桥律师事务所"}
    ]
    assert api.get(f"/cases/{case['id']}", user="bob").json["declined_firms"] is None


def test_an_organisation_missing_from_the_directory_is_shown_by_its_id(api: Api, db: Database) -> None:
    case = case_in(api, "submitted")
    with db.unit_of_work() as uow:
        uow.session.execute(delete(directory).where(directory.c.id == ORG_A))
        uow.commit()
    shown = api.get(f"/cases/{case['id']}", user="desk").json["organisation"]
    assert shown == {"id": ORG_A, "name": None, "name_zh": None, "display_name": ORG_A}


def test_a_rating_names_who_rated(api: Api) -> None:
    case = case_in(api, "solution_proposed")
    closed = done(api, case, "accept_solution", "bob", {"stars": 5})
    assert (closed["rating"]["rated_by"], closed["rating"]["rated_by_name"]) == ("user:bob", "Bob Li")


def test_a_nul_in_a_cases_text_is_a_field_error(api: Api) -> None:
    refused = submit(api, "bob", subject="Review\x00", description="A\x00B")
    assert refused.status_code == 422
    assert refused.json["errors"]["subject"] == ["The text holds a NUL character."]
    assert refused.json["errors"]["description"] == ["The text holds a NUL character."]


def test_a_firms_clock_names_its_firm(api: Api) -> None:
    case = case_in(api, "assigned")
    clocks = api.get(f"/cases/{case['id']}", user="desk", headers=ZH).json["sla"]
    firms = {(c["clock"], c["target"]): c["firm"] for c in clocks}
    assert firms[("tenant", "first_response")] is None
    assert firms[("firm", "first_response")] == {
        "id": LAW,
        "name": "Tianfu Bridge Law Firm",
        "name_zh": "天府桥律师事务所",
        "display_name": "天府桥律师事务所",
    }
