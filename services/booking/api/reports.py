"""``/reports``: utilisation per space and kind for park admin, as JSON or CSV."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from services.booking.api.schemas.reservations import ReportQuerySchema, UtilisationSchema
from services.booking.queries import reports
from shared.http.auth import requires
from shared.http.blueprint import Blueprint
from shared.http.views import reading

blp = Blueprint("booking-reports", "parkhub.booking.reports", description="Utilisation reports (park admin).")


@blp.route("/reports/utilisation")
class Utilisation(MethodView):
    @requires("park_admin")
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.response(200, UtilisationSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Booked hours / open hours and the no-show rate per space and per kind, over the days
        ``from``-``to`` (park time, both included, at most a year)."""
        with reading() as session:
            return reports.utilisation(session, args["from_"], args["to"], args.get("kind"))


@blp.route("/reports/utilisation.csv")
class UtilisationCsv(MethodView):
    @blp.arguments(ReportQuerySchema, location="query")
    @blp.doc(
        responses={
            "200": {
                "description": "The utilisation report as CSV, one row per space, then one per kind.",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        }
    )
    @requires("park_admin")
    def get(self, args: dict[str, Any]) -> Response:
        """The same report as CSV: one row per space, then one per kind (column ``level``)."""
        with reading() as session:
            report = reports.utilisation(session, args["from_"], args["to"], args.get("kind"))
        response = Response(reports.as_csv(report), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="utilisation-{args["from_"]}-{args["to"]}.csv"'
        return response
