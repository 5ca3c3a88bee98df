"""The desk's printable day board in a real headless browser (Debian's ``chromium``), in English
and in Chinese: the page the API answers renders, its DOM lists the day's bookings (organisation
and title), and it prints within the width of one A4 page: Chromium's PDF of it has A4 pages
(595 × 842 pt, from the page's own ``@page``), and laid out at the printable width (A4 less the
page margins, 190 mm) nothing is wider than the page, long unbroken words included.

Locally a missing ``chromium`` skips these tests; with ``PARKHUB_REQUIRE_BROWSER`` set (``.ci/run``
sets it) it fails them.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import update

from services.booking.models import Reservation, Visitor, directory
from tests.booking.conftest import ORG_A, ORG_B, at, park_day
from tests.booking.factories import ReservationFactory, SpaceFactory, current_session
from tests.gateway.test_docs_page import chromium

pytestmark = pytest.mark.slow

A4_WIDTH_PT = 595.28  # 210 mm
A4_HEIGHT_PT = 841.89  # 297 mm
PRINTABLE_PX = round(190 / 25.4 * 96)  # 210 mm less the page's 10 mm margins, at CSS's 96 px per inch
MEASURE = """<script>
  // Written into the DOM for --dump-dom: how wide the laid-out page is against the window.
  const root = document.documentElement;
  const widest = Math.max(...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right));
  document.body.setAttribute('data-measure', JSON.stringify(
    {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, innerWidth: window.innerWidth, widest}));
</script>"""


def run_chromium(profile: Path, *arguments: str) -> str:
    result = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}", *arguments],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return result.stdout.decode()


def measurement(dom: str) -> dict[str, float]:
    found = re.search(r'data-measure="([^"]+)"', dom)
    assert found is not None, dom[:2000]
    return dict(json.loads(found.group(1).replace("&quot;", '"')))


@pytest.fixture
def busy_day(db):
    """A day with bookings of both tenants, in three buildings, with long words and long names."""
    with db.unit_of_work() as uow:
        for org_id, name_zh in ((ORG_A, "成都细胞治疗"), (ORG_B, "天府基因")):
            uow.session.execute(update(directory).where(directory.c.id == org_id).values(name_zh=name_zh))
        uow.commit()
    day = park_day(4)
    rooms = [
        SpaceFactory(code=f"room-{n}", name=f"Meeting Room {n}", name_zh=f"会议室{n}", building=building)
        for n, building in enumerate(("Phase I · Building A1", "Phase I · Building A1", "Phase II · Building B2"))
    ]
    SpaceFactory(code="hall", kind="exhibition_hall", name="Exhibition Hall", name_zh="展览馆", booths=40)
    ReservationFactory(space=rooms[0], start=at(day, "09:00"), title="Quarterly review", layout="round_table")
    ReservationFactory(
        space=rooms[0],
        start=at(day, "13:30"),
        minutes=120,
        org_id=ORG_B,
        booked_by_name="Carol Zhang",
        title="Sequencing" + "X" * 120,  # one unbreakable word far wider than a cell
        note="https://example.org/" + "very-long-path/" * 12,
    )
    ReservationFactory(space=rooms[1], start=at(day, "10:00"), title="Investor call", status="pending_approval")
    ReservationFactory(space=rooms[2], start=at(day, "16:00"), title="季度复盘会议" * 12, attendees=18)
    return day


@pytest.mark.parametrize(
    ("language", "lang", "organisations", "heading"),
    [
        ("en", "en", ("Chengdu Cell Therapeutics", "Tianfu Genomics"), "Day board of"),
        ("zh-CN", "zh-CN", ("成都细胞治疗", "天府基因"), "日程看板"),
    ],
)
def test_the_printed_board_renders_lists_the_day_and_fits_an_a4_page_width(
    api, busy_day, tmp_path, language, lang, organisations, heading
):
    response = api.get(f"/board?date={busy_day}&format=html", user="desk", headers={"Accept-Language": language})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    board = tmp_path / "board.html"
    board.write_text(page, encoding="utf-8")

    # It renders: the DOM Chromium built lists the day's bookings.
    dom = run_chromium(tmp_path / "profile", "--dump-dom", board.as_uri())
    assert f'<html lang="{lang}">' in dom
    assert heading in dom
    for name in organisations:
        assert name in dom
    for title in ("Quarterly review", "Investor call", "季度复盘会议"):
        assert title in dom
    assert dom.count("<tr>") == 3 + 4  # a header row per booked space (3), a row per booking (4)

    # Laid out at the printable width of A4, nothing sticks out.
    measured = tmp_path / "measured.html"
    measured.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = run_chromium(tmp_path / "profile", f"--window-size={PRINTABLE_PX},1200", "--dump-dom", measured.as_uri())
    width = measurement(dom)
    assert abs(width["innerWidth"] - PRINTABLE_PX) <= 2, width
    assert width["scrollWidth"] <= width["clientWidth"], width
    assert width["widest"] <= width["clientWidth"] + 0.5, width

    # Printed, its pages are A4 (the page's own @page size).
    pdf = tmp_path / "board.pdf"
    run_chromium(tmp_path / "profile", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", board.as_uri())
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf.read_bytes())
    assert boxes, "no page in the PDF"
    for box_width, box_height in boxes:
        assert abs(float(box_width) - A4_WIDTH_PT) < 2 and abs(float(box_height) - A4_HEIGHT_PT) < 2, boxes


def test_the_printed_gate_list_fits_an_a4_page_width(api, busy_day, tmp_path):
    session = current_session()
    first = session.query(Reservation).filter(Reservation.title == "Quarterly review").one()
    for n in range(6):
        session.add(
            Visitor(
                reservation_id=first.id,
                name=f"Visitor {n} " + "Longname" * (n + 1),
                company="Roche Diagnostics (Shanghai) Co., Ltd." * 2,
                car_plate="川A1234" + str(n),
                plate_kind="mainland",
            )
        )
    session.commit()
    page = api.get(f"/gate?date={busy_day}&format=html", user="desk").get_data(as_text=True)
    measured = tmp_path / "gate.html"
    measured.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = run_chromium(tmp_path / "profile", f"--window-size={PRINTABLE_PX},1200", "--dump-dom", measured.as_uri())
    assert "川A12340" in dom and "Quarterly review" in dom
    width = measurement(dom)
    assert width["scrollWidth"] <= width["clientWidth"], width
