"""The desk's printable day board and gate list in a real headless browser (Debian's
``chromium``, driven over the DevTools protocol), in English and in Chinese, **as printed**: the
page is laid out with the print media type (``Emulation.setEmulatedMedia``) at the printable width
of A4 (210 mm less the page's 10 mm margins: 190 mm, 718 CSS px), and then

- it renders and lists the day's bookings: every title and organisation is in the text a reader
  sees (``document.body.innerText``), inside a table cell, visible, with a box of its own that is
  not empty and a readable font size (a page hidden with ``display: none``, or whose cells have
  ``font-size: 0``, fails here, although its DOM still holds the names);
- it fits one A4 page width: no element and no line of text reaches past the printable width, no
  cell's content overflows the cell (long unbroken words included), and the document does not
  scroll sideways (a print-only rule widening the page, or cells that never wrap, fail here);
- in Chinese, the Chinese text is drawn with a Chinese font (``CSS.getPlatformFontsForNode``
  names the fonts that actually rendered a node: without one, Chromium draws boxes);
- Chromium's PDF of it has A4 pages only (595 × 842 pt, from the page's own ``@page``).

Locally a missing ``chromium`` (or, for the Chinese page, a machine without any Chinese font, as
``fc-list :lang=zh`` shows) skips these tests; with ``PARKHUB_REQUIRE_BROWSER`` set (``.ci/run``
sets it, and installs ``fonts-noto-cjk`` when no Chinese font is there) it fails them.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from services.booking.models import Reservation, Visitor, directory
from tests.booking.conftest import ORG_A, ORG_B, at, park_day
from tests.booking.factories import ReservationFactory, SpaceFactory, current_session
from tests.gateway.test_docs_page import DevTools

pytestmark = pytest.mark.slow

A4_WIDTH_PT = 595.28  # 210 mm
A4_HEIGHT_PT = 841.89  # 297 mm
PRINTABLE_PX = round(190 / 25.4 * 96)  # 210 mm less the page's 10 mm margins, at CSS's 96 px per inch
PRINTABLE_HEIGHT_PX = round(273 / 25.4 * 96)  # 297 mm less 12 mm top and bottom
SMALLEST_READABLE_PX = 8  # 6 pt; the page's smallest text is 8 pt
CHINESE_FONT = re.compile(r"CJK|Han Sans|Han Serif|PingFang|YaHei|WenQuanYi|Hei|Song|Kai|Ming", re.I)

LAYOUT = """(texts) => {
  // What a reader of the printed page gets: each of ``texts`` where it is drawn, and how wide
  // everything is against the page.
  const root = document.documentElement;
  const boxOf = (node) => { const range = document.createRange(); range.selectNodeContents(node);
                            return range.getBoundingClientRect(); };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const lines = [];
  while (walker.nextNode()) if (walker.currentNode.data.trim()) lines.push(walker.currentNode);
  const found = {};
  for (const text of texts) {
    const node = lines.find(n => n.data.includes(text));
    if (!node) { found[text] = null; continue; }
    const box = boxOf(node), element = node.parentElement;
    found[text] = {
      width: box.width, height: box.height, left: box.left, right: box.right,
      fontSize: parseFloat(getComputedStyle(element).fontSize),
      visible: element.checkVisibility({opacityProperty: true, visibilityProperty: true}),
      inCell: element.closest('td') !== null,
    };
  }
  return {
    print: matchMedia('print').matches,
    lang: root.lang,
    heading: document.querySelector('h1') ? document.querySelector('h1').innerText : null,
    text: document.body.innerText,
    rows: document.querySelectorAll('tr').length,
    innerWidth: window.innerWidth,
    clientWidth: root.clientWidth,
    scrollWidth: root.scrollWidth,
    widestElement: Math.max(0, ...[...document.querySelectorAll('body *')].map(e => e.getBoundingClientRect().right)),
    widestText: Math.max(0, ...lines.map(n => boxOf(n).right)),
    overflowingCells: [...document.querySelectorAll('td, th')]
      .filter(cell => cell.scrollWidth > cell.clientWidth + 1).map(cell => cell.innerText.slice(0, 60)),
    found,
  };
}"""


def chinese_fonts_installed() -> bool:
    try:
        listed = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, timeout=30, check=False)
    except FileNotFoundError:
        return False
    return bool(listed.stdout.strip())


def need_chinese_font() -> None:
    if chinese_fonts_installed():
        return
    if os.environ.get("PARKHUB_REQUIRE_BROWSER"):
        pytest.fail("no Chinese font (fc-list :lang=zh is empty; apt-get install fonts-noto-cjk)", pytrace=False)
    pytest.skip("no Chinese font installed (fonts-noto-cjk); set PARKHUB_REQUIRE_BROWSER=1 to make this a failure")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    devtools = DevTools(tmp_path / "profile", tmp_path / "chromium.log")
    try:
        yield devtools
    finally:
        devtools.close()


def print_layout(browser: DevTools, page: str, path: Path) -> None:
    """Open ``page`` as it is printed on A4: the print media type, at the printable width."""
    path.write_text(page, encoding="utf-8")
    metrics = {"width": PRINTABLE_PX, "height": PRINTABLE_HEIGHT_PX, "deviceScaleFactor": 1, "mobile": False}
    browser.call("Emulation.setDeviceMetricsOverride", metrics)
    browser.call("Emulation.setEmulatedMedia", {"media": "print"})
    browser.call("Page.navigate", {"url": path.as_uri()})
    browser.wait_for(f"location.href === {json.dumps(path.as_uri())} && document.readyState === 'complete'", "load")
    browser.call("Runtime.evaluate", {"expression": "document.fonts.ready.then(() => true)", "awaitPromise": True})


def measure(browser: DevTools, texts: tuple[str, ...]) -> dict[str, Any]:
    return dict(browser.evaluate(f"({LAYOUT})({json.dumps(list(texts))})"))


def assert_printed_on_one_page_width(layout: dict[str, Any]) -> None:
    assert layout["print"], "the print media type is not in effect"
    assert abs(layout["innerWidth"] - PRINTABLE_PX) <= 2, layout["innerWidth"]
    width = layout["clientWidth"]
    assert layout["scrollWidth"] <= width, (layout["scrollWidth"], width)
    assert layout["widestElement"] <= width + 0.5, (layout["widestElement"], width)
    assert layout["widestText"] <= width + 0.5, (layout["widestText"], width)
    assert layout["overflowingCells"] == [], layout["overflowingCells"]


def assert_drawn_in_a_cell(layout: dict[str, Any], texts: tuple[str, ...]) -> None:
    """Each of ``texts`` is what a reader sees: in the page's text, in a table cell, visible,
    in a box that is not empty, in a readable size, within the page's width."""
    for text in texts:
        assert text in layout["text"], text
        drawn = layout["found"][text]
        assert drawn is not None, text
        assert drawn["inCell"] and drawn["visible"], (text, drawn)
        assert drawn["width"] > 0 and drawn["height"] >= SMALLEST_READABLE_PX, (text, drawn)
        assert drawn["fontSize"] >= SMALLEST_READABLE_PX, (text, drawn)
        assert 0 <= drawn["left"] < drawn["right"] <= layout["clientWidth"] + 0.5, (text, drawn)


def fonts_drawing(browser: DevTools, text: str) -> list[str]:
    """The fonts Chromium drew the table cell line that reads exactly ``text`` with."""
    browser.call("DOM.enable")
    browser.call("CSS.enable")
    browser.call("DOM.getDocument", {"depth": -1})
    find = f"[...document.querySelectorAll('td div')].find(e => e.textContent === {json.dumps(text)})"
    found = browser.call("Runtime.evaluate", {"expression": find})["result"]
    assert "objectId" in found, f"no cell line reads {text!r}"
    node = browser.call("DOM.requestNode", {"objectId": found["objectId"]})["nodeId"]
    return [font["familyName"] for font in browser.call("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]]


def printed_pdf(browser: DevTools) -> bytes:
    """The page as Chromium prints it (its own ``@page`` size, no header or footer)."""
    answer = browser.call(
        "Page.printToPDF",
        {"preferCSSPageSize": True, "printBackground": True, "displayHeaderFooter": False},
        timeout=120,
    )
    return base64.b64decode(answer["data"])


def assert_a4_pages(pdf: bytes) -> None:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert boxes, "no page in the PDF"
    for box_width, box_height in boxes:
        assert abs(float(box_width) - A4_WIDTH_PT) < 2 and abs(float(box_height) - A4_HEIGHT_PT) < 2, boxes


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


TITLES = ("Quarterly review", "Investor call", "SequencingXXXX", "季度复盘会议")


@pytest.mark.parametrize(
    ("language", "lang", "organisations", "heading"),
    [
        ("en", "en", ("Chengdu Cell Therapeutics", "Tianfu Genomics"), "Day board of"),
        ("zh-CN", "zh-CN", ("成都细胞治疗", "天府基因"), "日程看板"),
    ],
)
def test_the_printed_board_renders_lists_the_day_and_fits_an_a4_page_width(
    api, busy_day, browser, tmp_path, language, lang, organisations, heading
):
    if lang == "zh-CN":
        need_chinese_font()
    response = api.get(f"/board?date={busy_day}&format=html", user="desk", headers={"Accept-Language": language})
    assert response.status_code == 200
    print_layout(browser, response.get_data(as_text=True), tmp_path / "board.html")

    layout = measure(browser, (*TITLES, *organisations))
    assert layout["lang"] == lang
    assert heading in layout["heading"]
    assert layout["rows"] == 3 + 4  # a header row per booked space (3), a row per booking (4)
    assert_drawn_in_a_cell(layout, (*TITLES, *organisations))
    assert_printed_on_one_page_width(layout)

    if lang == "zh-CN":  # drawn with a Chinese font, not as boxes
        for name in organisations:
            fonts = fonts_drawing(browser, name)
            assert fonts and all(CHINESE_FONT.search(family) for family in fonts), (name, fonts)

    assert_a4_pages(printed_pdf(browser))


def test_the_printed_gate_list_lists_the_visitors_and_fits_an_a4_page_width(api, busy_day, browser, tmp_path):
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
    print_layout(browser, page, tmp_path / "gate.html")

    plates = tuple(f"川A1234{n}" for n in range(6))
    layout = measure(browser, ("Quarterly review", "Visitor 5 Longname", *plates))
    assert layout["rows"] == 1 + 6  # the header, a row per visitor
    assert_drawn_in_a_cell(layout, ("Quarterly review", "Visitor 5 Longname", *plates))
    assert_printed_on_one_page_width(layout)
    assert_a4_pages(printed_pdf(browser))
