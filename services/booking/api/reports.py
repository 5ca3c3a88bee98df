"""``/reports``: utilisation per space and kind for park admin (JSON or CSV), and the
reservations of a period as CSV for billing (staff: all; a tenant admin: their organisation's)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Response
from flask.views import MethodView

from services.booking.api.board import csv_response, display, named, park
from services.booking.api.schemas.board import ExportQuerySchema
from services.booking.api.schemas.reservations import ReportQuerySchema, UtilisationSchema
from services.booking.permissions import RIGHTS
from services.booking.queries import reports
from services.booking.rules.names import RESERVATION_STATUS
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.views import reading

blp = Blueprint(
    "booking-reports",
    "parkhub.booking.reports",
    description="Utilisation reports (park admin) and the reservations of a period for billing.",
)


@blp.route("/reports/utilisation")
class Utilisation(MethodView):
    @RIGHTS.guard("utilisation_report", current_principal)
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, UtilisationSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Booked hours / open hours and the no-show rate per space and per kind, over the days
        ``from``-``to`` (park time, both included, at most a year)."""
        with reading() as session:
            return reports.utilisation(session, args["from_"], args["to"], args.get("kind"))


@blp.route("/reports/utilisation.csv")
class UtilisationCsv(MethodView):
    @RIGHTS.guard("utilisation_report", current_principal)
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.doc(
        responses={
            "200": {
                "description": "The utilisation report as CSV, one row per space, then one per kind.",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    )
    def get(self, args: dict[str, Any]) -> Response:
        """The same report as CSV: one row per space, then one per kind (column ``level``)."""
        with reading() as session:
            report = reports.utilisation(session, args["from_"], args["to"], args.get("kind"))
        response = Response(reports.as_csv(report), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="utilisation-{args["from_"]}-{args["to"]}.csv"'
        return response


def _money(amount: Any) -> str:
    return "" if amount is None else f"{amount:.2f}"


def billing_line(row: dict[str, Any]) -> dict[str, Any]:
    """A reservation of :func:`reports.billing_rows` as the export writes it: park time, money
    as plain decimals with two places, names in the reader's language."""
    return {
        "reservation_id": row["id"],
        "space_code": row["space_code"],
        "space": display({"name": row["space_name"], "name_zh": row["space_name_zh"]}),
        "organisation_id": row["org_id"],
        "organisation": display(
            {"id": row["org_id"], "name": row["organisation_name"], "name_zh": row["organisation_name_zh"]}
        ),
        "booker": row["booked_by_name"],
        "title": row["title"],
        "start": park(row["starts_at"]),
        "end": park(row["ends_at"]),
        "status": row["status"],
        "status_label": named(RESERVATION_STATUS, row["status"]),
        "price": _money(row["price"]),
        "currency": row["currency"],
        "quota_minutes": row["quota_minutes"],
        "billable_minutes": row["billable_minutes"],
        "cancellation_fee": _money(row["cancellation_fee"]),
    }


@blp.route("/reports/reservations.csv")
class ReservationsCsv(MethodView):
    @RIGHTS.guard("export_reservations", current_principal)
    @blp.arguments(ExportQuerySchema, location="query")
    @blp.doc(
        responses={
            "200": {
                "description": "One row per reservation starting in the period, every state, by start "
                "(UTF-8 with a byte order mark; columns in docs/BOOKING.md).",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    )
    def get(self, args: dict[str, Any]) -> Response:
        """The reservations starting on the days ``from``-``to`` (park time, both included, at most
        366 days) as CSV for billing: price, free minutes used, billable minutes, cancellation fee.
        Staff export every organisation's (or ``organisation_id``'s), a tenant admin their own."""
        period = reports.billing_period(args["from_"], args["to"])
        org_id = reports.billing_scope(current_principal(), args.get("organisation_id"))

        def lines() -> Iterator[dict[str, Any]]:
            with reading() as session:
                for row in reports.billing_rows(session, period, org_id):
                    yield billing_line(row)

        return csv_response(
            reports.BILLING_COLUMNS,
            lines(),
            f"reservations-{args['from_']}-{args['to']}.csv",
            args["header"],
            stream=True,
        )
