"""The park's real bookable spaces (docs/PARK.md), default tenant quotas and the park's calendar
of public holidays, as demo data.

``seed(settings)`` is idempotent: a space is added only when no space has its code, a quota rule
only when none exists for that kind, and a year of the park's calendar only when it has no days
yet. Space ids are derived from the codes (UUID v5), so they are the same on every machine.

The staffed halls (:data:`STAFFED`: their events need the park's technicians, security and crews
on site) close on public holidays and open on make-up working days; self-service rooms, the
scientists' club and the courts stay open. The calendar is loaded from the official schedule
(:mod:`shared.holidays`) for every year it covers from this one on.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from services.booking.models import ParkDay, QuotaRule, Space, database
from shared.clock import PARK_TZ, utcnow
from shared.db import UnitOfWork
from shared.holidays import SOURCE, SOURCE_VERSION, covered_years, official_days
from shared.settings import Settings

log = logging.getLogger(__name__)

NAMESPACE = uuid.UUID("7b0f2a52-54a1-4c38-9d39-6a1f0c2b8e11")
WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def hours(opens: str, closes: str, days: tuple[str, ...] = WEEK) -> dict[str, list[list[str]]]:
    return {day: [[opens, closes]] for day in days}


OFFICE = hours("08:00", "22:00")
ROOM_RULES = {
    "slot_minutes": 30,
    "min_duration_minutes": 30,
    "max_duration_minutes": 600,
    "lead_time_minutes": 60,
    "horizon_days": 90,
    "setup_minutes": 0,
    "cleanup_minutes": 15,
    "free_cancel_hours": 24,
    "late_cancel_fee_percent": Decimal("50"),
    "check_in_opens_minutes": 15,
    "check_in_grace_minutes": 15,
}
HALL_RULES = {
    "slot_minutes": 60,
    "min_duration_minutes": 120,
    "max_duration_minutes": 720,
    "lead_time_minutes": 7 * 24 * 60,
    "horizon_days": 365,
    "setup_minutes": 120,
    "cleanup_minutes": 60,
    "free_cancel_hours": 14 * 24,
    "late_cancel_fee_percent": Decimal("30"),
    "check_in_opens_minutes": 120,
    "check_in_grace_minutes": 60,
}
COURT_RULES = {
    "slot_minutes": 60,
    "min_duration_minutes": 60,
    "max_duration_minutes": 180,
    "lead_time_minutes": 30,
    "horizon_days": 14,
    "setup_minutes": 0,
    "cleanup_minutes": 0,
    "free_cancel_hours": 4,
    "late_cancel_fee_percent": Decimal("100"),
    "check_in_opens_minutes": 15,
    "check_in_grace_minutes": 15,
}


def _space(
    code: str,
    kind: str,
    names: tuple[str, str],
    where: tuple[str, str | None],
    capacity: int,
    *,
    rules: dict[str, Any],
    price: str,
    layouts: dict[str, int],
    equipment: list[str],
    about: tuple[str, str],
    opening: dict[str, list[list[str]]] = OFFICE,
    approval: tuple[str, int | None] = ("never", None),
) -> dict[str, Any]:
    return {
        "code": code,
        "kind": kind,
        "name": names[0],
        "name_zh": names[1],
        "building": where[0],
        "floor": where[1],
        "capacity": capacity,
        "layouts": layouts,
        "equipment": equipment,
        "description": about[0],
        "description_zh": about[1],
        "opening_hours": opening,
        "hourly_price": Decimal(price),
        "currency": "CNY",
        "approval_mode": approval[0],
        "approval_threshold": approval[1],
        **rules,
    }


A1, A2, B3 = "Phase I · Building A1", "Phase I · Building A2", "Phase II · Building B3"
SPACES: tuple[dict[str, Any], ...] = (
    _space(
        "a1-negotiation-1",
        "conference_room",
        ("Business Negotiation Room 1", "商务洽谈室一"),
        (A1, "3F"),
        8,
        rules=ROOM_RULES,
        price="80.00",
        layouts={"boardroom": 8},
        equipment=["video_conferencing", "whiteboard"],
        about=("A quiet room for high-end business negotiations.", "适合高端商务洽谈的安静会议室。"),
    ),
    _space(
        "a1-roundtable",
        "conference_room",
        ("Round-Table Room", "圆桌会议室"),
        (A1, "3F"),
        20,
        rules=ROOM_RULES,
        price="150.00",
        layouts={"round_table": 20, "boardroom": 16},
        equipment=["projector", "video_conferencing", "whiteboard"],
        about=("Small round-table meetings and partner reviews.", "小型圆桌会议、合作伙伴评审。"),
    ),
    _space(
        "a2-workshop",
        "conference_room",
        ("Creative Workshop", "创意工坊"),
        (A2, "2F"),
        40,
        rules=ROOM_RULES,
        price="260.00",
        layouts={"classroom": 36, "u_shape": 24, "round_table": 40},
        equipment=["projector", "whiteboard", "wireless_mics"],
        about=("Workshops, trainings and design sprints.", "创意工作坊、培训与设计冲刺。"),
    ),
    _space(
        "b3-multifunction",
        "conference_room",
        ("Multi-Function Conference Room", "多功能会议厅"),
        (B3, "1F"),
        120,
        rules=ROOM_RULES,
        price="600.00",
        layouts={"theatre": 120, "classroom": 72, "banquet": 80},
        equipment=["projector", "led_wall", "pa_system", "wireless_mics", "video_conferencing", "livestream"],
        about=("Industry summits, annual meetings and product trainings.", "行业峰会、年会与产品培训。"),
        approval=("attendees_above", 60),
    ),
    _space(
        "b3-international",
        "conference_room",
        ("International Conference Hall", "国际会议厅"),
        (B3, "2F"),
        300,
        rules=ROOM_RULES,
        price="1500.00",
        layouts={"theatre": 300, "classroom": 160, "banquet": 200},
        equipment=["led_wall", "pa_system", "interpretation_booths", "wireless_mics", "livestream", "recording"],
        about=(
            "Academic conferences and large multi-party conferences with simultaneous interpretation.",
            "学术会议、多方大型会议，配同声传译。",
        ),
        approval=("always", None),
    ),
    _space(
        "science-hall",
        "science_hall",
        ("Thousand-Seat Science Hall", "千人科学会堂"),
        ("Science Hall", "1F"),
        1000,
        rules=HALL_RULES,
        price="6000.00",
        layouts={"theatre": 1000},
        equipment=["led_wall", "pa_system", "stage_lighting", "interpretation_booths", "livestream", "recording"],
        about=("Keynotes, large conferences and award ceremonies.", "主题演讲、大型会议与颁奖典礼。"),
        opening=hours("08:00", "23:00"),
        approval=("always", None),
    ),
    _space(
        "scientists-club",
        "scientists_club",
        ("Scientists' Club", "科学家俱乐部"),
        ("Kechuang Building", "18F"),
        60,
        rules=ROOM_RULES,
        price="400.00",
        layouts={"cocktail": 60, "round_table": 40},
        equipment=["projector", "pa_system", "tea_service"],
        about=("Salons and gatherings of researchers.", "科学家沙龙与学术交流聚会。"),
        opening=hours("09:00", "23:00"),
        approval=("attendees_above", 30),
    ),
    _space(
        "exhibition-hall",
        "exhibition_hall",
        ("Shared Exhibition Hall", "共享展厅"),
        ("Phase II · Building B1", "1F"),
        500,
        rules={
            **HALL_RULES,
            "min_duration_minutes": 240,
            "max_duration_minutes": 7 * 24 * 60,
            "setup_minutes": 720,
            "cleanup_minutes": 720,
        },
        price="1200.00",
        layouts={"booths": 500, "cocktail": 500},  # people in the hall at once; the booths are BOOTHS below
        equipment=["booth_power", "led_wall", "pa_system"],
        about=(
            "Multi-day exhibitions of tenants' latest research results, with 40 booths.",
            "企业最新研究成果展示，可多日布展，设40个展位。",
        ),
        opening=hours("00:00", "24:00"),
        approval=("always", None),
    ),
    _space(
        "release-square",
        "release_square",
        ("Design Release Square", "设计发布广场"),
        ("Central Plaza", None),
        2000,
        rules={**HALL_RULES, "max_duration_minutes": 840, "setup_minutes": 240, "cleanup_minutes": 120},
        price="8000.00",
        layouts={"theatre": 1200, "cocktail": 2000},
        equipment=["led_wall", "pa_system", "stage_lighting", "livestream"],
        about=("Product launches and large outdoor events.", "新品发布会与大型户外活动。"),
        opening=hours("08:00", "22:00"),
        approval=("always", None),
    ),
    _space(
        "basketball-court",
        "basketball_court",
        ("Basketball Court", "篮球场"),
        ("Sports Park", None),
        20,
        rules=COURT_RULES,
        price="200.00",
        layouts={"court": 20},
        equipment=["scoreboard", "changing_rooms"],
        about=("Full-size outdoor court.", "标准室外篮球场。"),
        opening=hours("07:00", "22:00"),
    ),
    *(
        _space(
            f"badminton-court-{number}",
            "badminton_court",
            (f"Badminton Court {number}", f"羽毛球场{chinese}号"),
            ("Sports Park · Hall", None),
            4,
            rules=COURT_RULES,
            price="60.00",
            layouts={"court": 4},
            equipment=["changing_rooms"],
            about=("Indoor court.", "室内羽毛球场。"),
            opening=hours("07:00", "22:00"),
        )
        for number, chinese in ((1, "一"), (2, "二"))
    ),
)

STAFFED = ("b3-multifunction", "b3-international", "science-hall", "exhibition-hall", "release-square")
"""The halls that close on public holidays: the multi-function and international conference halls,
the science hall, the exhibition hall and the release square."""
BOOTHS = {"exhibition-hall": 40}
"""Standard booths an exhibition's organiser lets to exhibitors inside a booking of the hall."""

QUOTAS = {"conference_room": 8, "scientists_club": 4, "basketball_court": 4, "badminton_court": 8}
"""Free hours per tenant and month, by space kind (``*``: every tenant)."""


def space_id(code: str) -> str:
    return str(uuid.uuid5(NAMESPACE, code))


def seed(settings: Settings) -> list[str]:
    """Add the park's spaces and the default quotas that are missing; say what was added."""
    db = database(settings)
    lines: list[str] = []
    now = utcnow()
    with db.unit_of_work() as uow:
        known = set(uow.session.execute(select(Space.code)).scalars())
        for details in SPACES:
            if details["code"] in known:
                continue
            space = Space(
                id=space_id(details["code"]),
                active=True,
                closes_on_public_holidays=details["code"] in STAFFED,
                booths=BOOTHS.get(details["code"]),
                created_at=now,
                updated_at=now,
                **details,
            )
            space.policy().validate()
            uow.session.add(space)
            lines.append(f"booking: space {details['name']} · {details['name_zh']} ({details['capacity']})")
        for kind, free_hours in QUOTAS.items():
            if uow.session.get(QuotaRule, ("*", kind)) is None:
                uow.session.add(QuotaRule(org_id="*", space_kind=kind, free_hours_per_month=free_hours, updated_at=now))
                lines.append(f"booking: every tenant gets {free_hours} free hours a month of {kind}")
        lines += _park_calendar(uow, now.astimezone(PARK_TZ).year)
        uow.commit()
    return lines


def _park_calendar(uow: UnitOfWork, this_year: int) -> list[str]:
    """Load every year the official source covers from ``this_year`` on that has no days yet;
    say which years the source covers, and which coming year it does not have yet."""
    source = covered_years()
    lines: list[str] = []
    for year in range(this_year, source.stop):
        first, last = date(year, 1, 1), date(year, 12, 31)
        if uow.session.execute(select(ParkDay.day).where(ParkDay.day >= first, ParkDay.day <= last)).first():
            continue
        days = official_days(year)
        now = utcnow()
        uow.session.add_all(ParkDay(day=d.day, kind=d.kind, name=d.name, source=SOURCE, updated_at=now) for d in days)
        lines.append(
            f"booking: park calendar {year} from the official schedule ({SOURCE} {SOURCE_VERSION}): "
            f"{sum(d.kind == 'holiday' for d in days)} public holidays, "
            f"{sum(d.kind == 'workday' for d in days)} make-up working days"
        )
    missing = source.stop
    if lines:
        lines.append(
            f"booking: the official holiday source covers {source.start}-{missing - 1}; "
            f"{missing} is not in it yet: enter it by hand (PUT /api/v1/booking/park-calendar/{missing}) "
            "once the State Council publishes it, or load it when a newer chinesecalendar has it"
        )
    elif this_year >= missing:
        log.warning(
            "park calendar: the source covers %s-%s only; enter %s by hand", source.start, missing - 1, this_year
        )
    return lines
