"""``/board`` and ``/gate``: the desk's day board and the gate list, as JSON, CSV or a page to print.

The format is ``format=json|csv|html`` when given, else the best of ``Accept`` (``application/json``,
``text/csv``, ``text/html``; JSON for anything else). CSV is UTF-8 with a byte order mark, so
Excel opens Chinese names right, with a header row in the reader's language (or the column keys
with ``header=keys``). The page is one self-contained HTML document (inline CSS, no script, no
fetch) that prints on A4, grouped by building and space, in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from flask import Response, request, stream_with_context
from flask.views import MethodView
from jinja2 import Environment, FileSystemLoader, select_autoescape
from marshmallow import Schema

from services.booking.api.schemas.board import (
    BoardQuerySchema,
    DayBoardSchema,
    GateListSchema,
    GateQuerySchema,
)
from services.booking.permissions import RIGHTS
from services.booking.queries import board
from services.booking.queries.board import Window
from services.booking.rules.names import CHECK_IN_STATE, LAYOUT, PLATE_KIND, RESERVATION_STATUS, SPACE_KIND
from shared.clock import PARK_TZ, as_utc, utcnow
from shared.csv import csv_lines
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.languages import current_locale
from shared.http.views import reading
from shared.i18n import CONTENT_LANGUAGE, Message, Text, _, label, render

blp = Blueprint(
    "booking-board",
    "parkhub.booking.board",
    description="The desk's day board and the gate list (desk staff and park admin).",
)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv", "html": "text/html"}


def formats_doc(schema: type[Schema], what: str) -> dict[str, Any]:
    """The OpenAPI answer of a view that speaks JSON (``schema``), CSV and HTML."""
    return {
        "responses": {
            "200": {
                "description": what,
                "content": {
                    "application/json": {"schema": schema},
                    "text/csv": {"schema": {"type": "string"}},
                    "text/html": {"schema": {"type": "string"}},
                },
            }
        }
    }


def wanted_format(args: Mapping[str, Any]) -> str:
    """``format`` when given, else what ``Accept`` prefers among JSON, CSV and HTML (JSON by default)."""
    if args.get("format"):
        return str(args["format"])
    best = request.accept_mimetypes.best_match(list(MEDIA_TYPES.values()), default=MEDIA_TYPES["json"])
    return next(name for name, media in MEDIA_TYPES.items() if media == best)


# Park time as people read it ---------------------------------------------------------------


def park(moment: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    """``moment`` in park time, written ``2026-12-01 10:00`` (what Excel reads as a date and time)."""
    return "" if moment is None else as_utc(moment).astimezone(PARK_TZ).strftime(pattern)


def span(start: datetime, end: datetime, *, on: date | None) -> str:
    """``10:00–11:30`` when both fall on ``on`` (midnight ending it reads 24:00), else with dates."""
    first, last = as_utc(start).astimezone(PARK_TZ), as_utc(end).astimezone(PARK_TZ)
    if on is not None and first.date() == on:
        if last.date() == on:
            return f"{first:%H:%M}–{last:%H:%M}"
        if last.date().toordinal() == on.toordinal() + 1 and (last.hour, last.minute) == (0, 0):
            return f"{first:%H:%M}–24:00"
    return f"{first:%m-%d %H:%M} – {last:%m-%d %H:%M}"


def says(text: Text) -> str:
    return render(text, current_locale())


def named(kind: str, code: str | None) -> str:
    return "" if code is None else says(label(kind, code))


def display(entry: Mapping[str, Any]) -> str:
    """A bilingual name (an organisation, a space) in the reader's language."""
    if current_locale() == "zh" and entry.get("name_zh"):
        return str(entry["name_zh"])
    return str(entry.get("name") or entry.get("id") or "")


# CSV ---------------------------------------------------------------------------------------


def csv_response(
    columns: Mapping[str, Message],
    rows: Iterable[Mapping[str, Any]],
    filename: str,
    header: str,
    *,
    stream: bool = False,
) -> Response:
    """The rows as a CSV download, headed by the columns' keys or their labels. Written whole
    unless ``stream``: then ``rows`` may be a generator that reads the database while the answer
    is sent, and the request's context (its language, its database) stays with it."""
    head = list(columns) if header == "keys" else [says(text) for text in columns.values()]
    lines = csv_lines(head, list(columns), rows)
    body = stream_with_context(lines) if stream else "".join(lines)
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


BOARD_COLUMNS: dict[str, Message] = {
    "building": _("Building"),
    "floor": _("Floor"),
    "space_code": _("Space code"),
    "space": _("Space"),
    "kind": _("Kind"),
    "reservation_id": _("Reservation"),
    "start": _("Start"),
    "end": _("End"),
    "hold_start": _("Setup from"),
    "hold_end": _("Cleanup until"),
    "organisation": _("Organisation"),
    "booker": _("Booked by"),
    "title": _("Title"),
    "attendees": _("Attendees"),
    "layout": _("Layout"),
    "status": _("Status code"),
    "status_label": _("Status"),
    "check_in": _("Check-in"),
    "checked_in_at": _("Checked in at"),
    "visitors": _("Visitors"),
    "booths_let": _("Booths let"),
    "note": _("Note"),
}
"""The board's CSV columns: keys (stable, ``header=keys``) and their headers."""


def board_rows(answer: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """One row per reservation; a space with none still has one row (the desk walks every room)."""
    for space in answer["spaces"]:
        where = {
            "building": space["building"],
            "floor": space["floor"] or "",
            "space_code": space["code"],
            "space": display(space),
            "kind": named(SPACE_KIND, space["kind"]),
        }
        if not space["reservations"]:
            yield where
        for item in space["reservations"]:
            yield {
                **where,
                "reservation_id": item["id"],
                "start": park(item["start"]),
                "end": park(item["end"]),
                "hold_start": park(item["hold"]["start"]),
                "hold_end": park(item["hold"]["end"]),
                "organisation": display(item["organisation"]),
                "booker": item["booked_by_name"] or "",
                "title": item["title"],
                "attendees": item["attendees"],
                "layout": named(LAYOUT, item["layout"]),
                "status": item["status"],
                "status_label": named(RESERVATION_STATUS, item["status"]),
                "check_in": named(CHECK_IN_STATE, item["check_in"]["state"]),
                "checked_in_at": park(item["check_in"]["checked_in_at"]),
                "visitors": item["visitors"],
                "booths_let": item["booths_let"] if space["booths"] else "",
                "note": item["note"] or "",
            }


GATE_COLUMNS: dict[str, Message] = {
    "start": _("Start"),
    "end": _("End"),
    "visitor": _("Visitor"),
    "company": _("Company"),
    "car_plate": _("Car plate"),
    "plate_kind": _("Plate kind"),
    "organisation": _("Organisation"),
    "booker": _("Booked by"),
    "building": _("Building"),
    "floor": _("Floor"),
    "space_code": _("Space code"),
    "space": _("Space"),
    "reservation_id": _("Reservation"),
    "title": _("Title"),
    "status": _("Status code"),
    "status_label": _("Status"),
}
"""The gate list's CSV columns: keys (stable, ``header=keys``) and their headers."""


def gate_rows(answer: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    for visitor in answer["visitors"]:
        reservation, space = visitor["reservation"], visitor["space"]
        yield {
            "start": park(reservation["start"]),
            "end": park(reservation["end"]),
            "visitor": visitor["name"],
            "company": visitor["company"] or "",
            "car_plate": visitor["car_plate"] or "",
            "plate_kind": named(PLATE_KIND, visitor["plate_kind"]),
            "organisation": display(visitor["organisation"]),
            "booker": reservation["booked_by_name"] or "",
            "building": space["building"],
            "floor": space["floor"] or "",
            "space_code": space["code"],
            "space": display(space),
            "reservation_id": reservation["id"],
            "title": reservation["title"],
            "status": reservation["status"],
            "status_label": named(RESERVATION_STATUS, reservation["status"]),
        }


# The printable page ------------------------------------------------------------------------


@cache
def _pages() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True), trim_blocks=True)


def html_response(page: dict[str, Any]) -> Response:
    """``page`` (texts already in the reader's language) through the printable template."""
    document = _pages().get_template("printable.html").render(lang=CONTENT_LANGUAGE[current_locale()], **page)
    return Response(document, mimetype="text/html")


def _as_of() -> str:
    return says(_("As of {at}, park time (Asia/Shanghai).", at=park(utcnow())))


def _period_title(answer: Mapping[str, Any]) -> str:
    if answer["days"] == 1:
        return says(_("Day board of {day}", day=answer["from_"].isoformat()))
    return says(_("Day board, {first} to {last}", first=answer["from_"].isoformat(), last=answer["to"].isoformat()))


def board_page(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The board as the printable page: a section per building, a table per space."""
    on = answer["from_"] if answer["days"] == 1 else None
    filters = []
    if answer["building"]:
        filters.append(says(_("Building: {building}", building=answer["building"])))
    if answer["kind"]:
        filters.append(says(_("Kind: {kind}", kind=label(SPACE_KIND, answer["kind"]))))
    sections: dict[str, list[dict[str, Any]]] = {}
    for space in answer["spaces"]:
        notes = [
            says(_("Closed {when}: {reason}", when=span(c["start"], c["end"], on=on), reason=c["reason"]))
            for c in space["closures"]
        ]
        sections.setdefault(space["building"], []).append(
            {
                "heading": display(space),
                "detail": " · ".join(
                    part
                    for part in (
                        space["code"],
                        space["floor"] or "",
                        named(SPACE_KIND, space["kind"]),
                        says(_("{count} seats", count=space["capacity"])),
                    )
                    if part
                ),
                "notes": notes,
                "rows": [_board_cells(item, space, on) for item in space["reservations"]],
            }
        )
    return {
        "title": _period_title(answer),
        "meta": [*filters, _as_of()],
        "columns": [
            (says(_("Time")), 15),
            (says(_("Organisation")), 19),
            (says(_("Title")), 26),
            (says(_("Attendees")), 12),
            (says(_("Status")), 13),
            (says(_("Check-in")), 15),
        ],
        "sections": [{"heading": building, "blocks": blocks} for building, blocks in sections.items()],
        "empty": says(_("Nothing booked.")),
        "nothing": says(_("No space matches.")),
    }


def _board_cells(item: Mapping[str, Any], space: Mapping[str, Any], on: date | None) -> list[list[str]]:
    hold = item["hold"]
    time_cell = [span(item["start"], item["end"], on=on)]
    if item["setup_minutes"] or item["cleanup_minutes"]:
        time_cell.append(says(_("Held {when}", when=span(hold["start"], hold["end"], on=on))))
    title_cell = [item["title"]]
    if space["booths"]:
        title_cell.append(says(_("Booths let: {let} of {booths}", let=item["booths_let"], booths=space["booths"])))
    if item["visitors"]:
        title_cell.append(says(_("Visitors: {count}", count=item["visitors"])))
    if item["note"]:
        title_cell.append(item["note"])
    check_in = item["check_in"]
    check_in_cell = [named(CHECK_IN_STATE, check_in["state"]) or "–"]
    if check_in["checked_in_at"] is not None:
        check_in_cell.append(park(check_in["checked_in_at"], "%H:%M" if on else "%m-%d %H:%M"))
    elif check_in["state"] in ("upcoming", "due"):
        check_in_cell.append(says(_("until {time}", time=park(check_in["closes_at"], "%H:%M"))))
    return [
        time_cell,
        [display(item["organisation"]), item["booked_by_name"] or ""],
        title_cell,
        [str(item["attendees"]), named(LAYOUT, item["layout"])],
        [named(RESERVATION_STATUS, item["status"])],
        check_in_cell,
    ]


def gate_page(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The gate list as the printable page: one table, by arrival."""
    on = answer["date"]
    rows = []
    for visitor in answer["visitors"]:
        reservation, space = visitor["reservation"], visitor["space"]
        rows.append(
            [
                [span(reservation["start"], reservation["end"], on=on)],
                [visitor["name"], visitor["company"] or ""],
                [visitor["car_plate"] or "–", named(PLATE_KIND, visitor["plate_kind"])],
                [display(visitor["organisation"]), reservation["booked_by_name"] or ""],
                [display(space), " · ".join(p for p in (space["building"], space["floor"] or "") if p)],
                [reservation["title"], named(RESERVATION_STATUS, reservation["status"])],
            ]
        )
    total = says(_("{visitors} visitors, {cars} with a car.", visitors=len(answer["visitors"]), cars=answer["cars"]))
    return {
        "title": says(_("Gate list of {day}", day=on.isoformat())),
        "meta": [total, _as_of()],
        "columns": [
            (says(_("Time")), 13),
            (says(_("Visitor")), 19),
            (says(_("Car plate")), 14),
            (says(_("Organisation")), 18),
            (says(_("Space")), 18),
            (says(_("Reservation")), 18),
        ],
        "sections": [{"heading": None, "blocks": [{"heading": None, "detail": None, "notes": [], "rows": rows}]}],
        "empty": says(_("No visitors expected.")),
        "nothing": says(_("No visitors expected.")),
    }


def answer_in(
    form: str,
    answer: dict[str, Any],
    *,
    columns: Mapping[str, Message],
    rows: Callable[[Mapping[str, Any]], Iterable[Mapping[str, Any]]],
    page: Callable[[Mapping[str, Any]], dict[str, Any]],
    filename: str,
    header: str,
) -> Any:
    """``answer`` in the format asked for; every one says it depends on ``Accept`` (``Vary``)."""
    if form == "csv":
        response = csv_response(columns, rows(answer), filename, header)
    elif form == "html":
        response = html_response(page(answer))
    else:
        return answer, 200, {"Vary": "Accept"}
    response.vary.add("Accept")
    return response


def _today() -> date:
    return utcnow().astimezone(PARK_TZ).date()


@blp.route("/board")
class DayBoard(MethodView):
    @RIGHTS.guard("day_board", current_principal)
    @blp.arguments(BoardQuerySchema, location="query")
    @blp.response(200, DayBoardSchema)
    @blp.doc(**formats_doc(DayBoardSchema, "The board: JSON, CSV (UTF-8 with a BOM) or a page to print on A4."))
    def get(self, args: dict[str, Any]) -> Any:
        """Every space of a day (``date``, park time; today when left out) or of up to a week
        (``days``), with what is booked on it: organisation, state, title, attendees, layout,
        setup and cleanup (``hold``), check-in, booths let. Filters ``building`` and ``kind``.
        JSON, CSV or a printable page (``format`` or ``Accept``)."""
        window = Window(args.get("date") or _today(), args["days"])
        with reading() as session:
            answer = board.day_board(session, window, building=args.get("building"), kind=args.get("kind"))
        suffix = f"-{window.days}d" if window.days > 1 else ""
        return answer_in(
            wanted_format(args),
            answer,
            columns=BOARD_COLUMNS,
            rows=board_rows,
            page=board_page,
            filename=f"board-{window.first}{suffix}.csv",
            header=args["header"],
        )


@blp.route("/gate")
class GateList(MethodView):
    @RIGHTS.guard("gate_list", current_principal)
    @blp.arguments(GateQuerySchema, location="query")
    @blp.response(200, GateListSchema)
    @blp.doc(**formats_doc(GateListSchema, "The gate list: JSON, CSV (UTF-8 with a BOM) or a page to print on A4."))
    def get(self, args: dict[str, Any]) -> Any:
        """The visitors and car plates expected on a day (``date``, park time; today when left
        out): every visitor of a reservation that holds its space that day, by arrival, with the
        reservation, space and organisation they come for. JSON, CSV or a printable page."""
        day = args.get("date") or _today()
        with reading() as session:
            answer = board.gate_list(session, day)
        return answer_in(
            wanted_format(args),
            answer,
            columns=GATE_COLUMNS,
            rows=gate_rows,
            page=gate_page,
            filename=f"gate-{day}.csv",
            header=args["header"],
        )
