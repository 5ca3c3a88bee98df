"""``GET /reports/reservations.csv``: the reservations of a period as CSV for the park's finance
office, read back with the ``csv`` module: one row per reservation starting in the period (park
time), every state, with price, free minutes, billable minutes and cancellation fee as plain
decimals; the header in the reader's language or as keys; staff export everything, a tenant
admin their organisation's, nobody else anything; a bad period is a 422 problem."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from sqlalchemy import update

from services.booking.models import Reservation, directory
from tests.booking.conftest import ORG_A, ORG_B, at
from tests.booking.factories import ReservationFactory, SpaceFactory, current_session

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}
PROBLEM = "https://parkhub.tianfu-lifescience.cn/problems/"
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)
KEYS = [
    "reservation_id",
    "space_code",
    "space",
    "organisation_id",
    "organisation",
    "booker",
    "title",
    "start",
    "end",
    "status",
    "status_label",
    "price",
    "currency",
    "quota_minutes",
    "billable_minutes",
    "cancellation_fee",
]


@pytest.fixture
def march(db):
    """March 2026 for both tenants: a hall request withdrawn late, a confirmed room with free
    minutes, a no-show, one at 00:00 on the first and one the minute before; April's first."""
    with db.unit_of_work() as uow:
        uow.session.execute(update(directory).where(directory.c.id == ORG_A).values(name_zh="成都细胞治疗"))
        uow.commit()
    hall = SpaceFactory(code="exhibition-hall", name="Exhibition Hall", name_zh="展览馆", kind="exhibition_hall")
    room = SpaceFactory(code="round-table", name="Round-Table Room", name_zh="圆桌会议室")
    made = {
        "hall": ReservationFactory(
            space=hall,
            start=at(date(2026, 3, 10), "09:00"),
            minutes=8 * 60,
            title="Biotech fair",
            status="cancelled",
            price=Decimal("67200"),
            billable_minutes=480,
            cancellation_fee=Decimal("20160"),
        ),
        "room": ReservationFactory(
            space=room,
            start=at(date(2026, 3, 12), "10:00"),
            minutes=90,
            title="Quarterly review",
            price=Decimal("50.5"),
            quota_minutes=60,
            billable_minutes=30,
        ),
        "no_show": ReservationFactory(
            space=room,
            start=at(date(2026, 3, 20), "14:00"),
            org_id=ORG_B,
            booked_by="user:carol",
            booked_by_name="Carol Zhang",
            title="Genomics sync",
            status="no_show",
        ),
        "first": ReservationFactory(space=room, start=at(FIRST, "00:00"), title="Midnight start"),
        "before": ReservationFactory(
            space=room, start=at(FIRST, "00:00") - timedelta(minutes=30), minutes=30, title="Late February"
        ),
        "after": ReservationFactory(space=room, start=at(LAST + timedelta(days=1), "00:00"), title="April fool"),
    }
    return {name: reservation.id for name, reservation in made.items()}


def export(api, user="desk", headers=EN, first=FIRST, last=LAST, **params):
    query = urlencode({"from": first.isoformat(), "to": last.isoformat(), **params})
    return api.get(f"/reports/reservations.csv?{query}", user=user, headers=headers)


def read(response) -> tuple[list[str], list[dict[str, str]]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    head, *rows = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
    return head, [dict(zip(head, row, strict=True)) for row in rows]


def test_staff_export_every_reservation_starting_in_the_period(api, march):
    response = export(api, header="keys")
    assert response.is_streamed
    assert 'filename="reservations-2026-03-01-2026-03-31.csv"' in response.headers["Content-Disposition"]
    head, rows = read(response)
    assert head == KEYS
    assert [r["reservation_id"] for r in rows] == [march[n] for n in ("first", "hall", "room", "no_show")]
    first, hall, room, no_show = rows
    assert (first["start"], first["end"]) == ("2026-03-01 00:00", "2026-03-01 01:00")  # park time
    assert hall == {
        "reservation_id": march["hall"],
        "space_code": "exhibition-hall",
        "space": "Exhibition Hall",
        "organisation_id": ORG_A,
        "organisation": "Chengdu Cell Therapeutics",
        "booker": "Alice Wang",
        "title": "Biotech fair",
        "start": "2026-03-10 09:00",
        "end": "2026-03-10 17:00",
        "status": "cancelled",
        "status_label": "Cancelled",
        "price": "67200.00",
        "currency": "CNY",
        "quota_minutes": "0",
        "billable_minutes": "0",  # cancelled: billed its fee, not minutes (test_export_minutes.py)
        "cancellation_fee": "20160.00",
    }
    assert (room["price"], room["quota_minutes"], room["billable_minutes"], room["cancellation_fee"]) == (
        "50.50",
        "60",
        "30",
        "",
    )
    assert (no_show["organisation"], no_show["booker"], no_show["status"]) == (
        "Tianfu Genomics",
        "Carol Zhang",
        "no_show",
    )
    assert read(export(api, user="admin", header="keys"))[1] == rows


def test_the_header_and_names_in_the_readers_language(api, march):
    head, rows = read(export(api, headers=ZH))
    assert head[:5] == ["预订", "场地编号", "场地", "机构编号", "机构"]
    assert "取消费" in head and "计费分钟数" in head and "价格" in head
    hall = rows[1]
    assert (hall["场地"], hall["机构"], hall["状态"], hall["状态代码"]) == (
        "展览馆",
        "成都细胞治疗",
        "已取消",
        "cancelled",
    )
    head_en, _rows = read(export(api))
    assert head_en[:5] == ["Reservation", "Space code", "Space", "Organisation ID", "Organisation"]
    assert read(export(api, headers=ZH, header="keys"))[0] == KEYS


def test_staff_may_export_one_organisation(api, march):
    _head, rows = read(export(api, user="admin", organisation_id=ORG_B))
    assert [r["Reservation"] for r in rows] == [march["no_show"]]


def test_a_tenant_admin_exports_their_own_organisation_only(api, march):
    _head, rows = read(export(api, user="alice"))
    assert [r["Reservation"] for r in rows] == [march[n] for n in ("first", "hall", "room")]
    assert read(export(api, user="alice", organisation_id=ORG_A))[1] == rows
    _head, theirs = read(export(api, user="carol"))
    assert [r["Reservation"] for r in theirs] == [march["no_show"]]
    other = export(api, user="alice", organisation_id=ORG_B)
    assert other.status_code == 403 and other.mimetype == "application/problem+json"
    assert other.json["detail"] == (
        "Only a tenant admin of the organisation, desk staff or park admin may export reservations."
    )
    assert (
        export(api, user="alice", headers=ZH, organisation_id=ORG_B).json["detail"]
        == "只有该机构的入驻企业管理员、服务台工作人员或园区管理员可以导出预订。"
    )


@pytest.mark.parametrize("user", ["bob", "dave", "bank"])
def test_members_and_partners_may_not_export(api, march, user):
    response = export(api, user=user)
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    bad = api.get("/reports/reservations.csv?from=yesterday", user=user)
    assert bad.status_code == 403  # who may call is settled before what was asked
    assert export(api, user=None).status_code == 401


@pytest.mark.parametrize(
    ("query", "status", "rule"),
    [
        ({"from": "2026-03-01"}, 422, None),
        ({"to": "2026-03-01"}, 422, None),
        ({"from": "first of March", "to": "2026-03-31"}, 422, None),
        ({"from": "2026-03-31", "to": "2026-03-01"}, 422, "rule/end-after-start"),
        ({"from": "2026-01-01", "to": "2027-01-02"}, 422, "rule/report-period"),  # 367 days
        ({"from": "1999-12-31", "to": "2000-01-01"}, 422, None),
        ({"from": "2026-03-01", "to": "2026-03-31", "header": "both"}, 422, None),
        ({"from": "2026-03-01", "to": "2026-03-31", "organisation_id": ""}, 422, None),
        ({"from": "2026-03-01", "to": "2026-03-31", "format": "xlsx"}, 400, None),
    ],
)
def test_a_bad_period_is_a_problem(api, db, query, status, rule):
    response = api.get(f"/reports/reservations.csv?{urlencode(query)}", user="desk")
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    if rule:
        assert response.json["type"] == PROBLEM + rule


def test_a_leap_year_fits_in_366_days(api, db):
    head, rows = read(export(api, first=date(2028, 1, 1), last=date(2028, 12, 31), header="keys"))
    assert (head, rows) == (KEYS, [])


def test_a_long_export_is_streamed_whole(api, db):
    space = SpaceFactory()
    session = current_session()
    start = datetime(2026, 5, 1, tzinfo=UTC)
    session.add_all(
        ReservationFactory.build(
            id=str(uuid.uuid4()), space=space, start=start + timedelta(hours=n), title=f"Slot {n:04d}"
        )
        for n in range(1_234)
    )
    session.commit()
    assert session.query(Reservation).count() == 1_234
    response = export(api, first=date(2026, 5, 1), last=date(2026, 6, 30), header="keys")
    assert response.is_streamed
    _head, rows = read(response)
    assert [r["title"] for r in rows] == [f"Slot {n:04d}" for n in range(1_234)]


def test_the_utilisation_csv_refuses_a_tenant_before_reading_the_query(api, db):
    """Its decorators had ``requires`` below ``arguments``: a tenant's bad query got a 422."""
    response = api.get("/reports/utilisation.csv?from=soon", user="alice")
    assert response.status_code == 403
    assert "errors" not in response.json
