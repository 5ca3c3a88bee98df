"""``/reports``: SLA attainment, backlog, times and ratings per category or per firm (park admin),
as JSON or CSV."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from services.consulting.api.schemas.reports import SlaReportCsvQuerySchema, SlaReportQuerySchema, SlaReportSchema
from services.consulting.permissions import RIGHTS
from services.consulting.queries import reports
from shared.clock import utcnow
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.downloads import CSV_RESPONSE, csv_download
from shared.http.languages import current_locale
from shared.http.views import reading
from shared.i18n import render

blp = Blueprint(
    "consulting-reports", "parkhub.consulting.reports", description="SLA attainment, backlog, times and ratings."
)


def _display_name(group: dict[str, Any]) -> str:
    """A group's name in the reader's language; the cases with no firm are named so."""
    if group["key"] is None:
        return render(reports.NO_FIRM, current_locale())
    if current_locale() == "zh" and group.get("name_zh"):
        return str(group["name_zh"])
    return str(group.get("name") or group["key"])


def _report(args: dict[str, Any]) -> dict[str, Any]:
    with reading() as session:
        report = reports.sla_report(session, args["from_"], args["to"], args["group_by"], utcnow())
    for group in report["groups"]:
        group["display_name"] = _display_name(group)
    return report


@blp.route("/reports/sla")
class SlaReport(MethodView):
    @RIGHTS.guard("reports", current_principal)
    @blp.arguments(SlaReportQuerySchema, location="query")
    @blp.response(200, SlaReportSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Per category (``group_by=category``, the default) or per firm (``group_by=firm``), over
        the cases submitted on the park days ``from``–``to`` (both included, at most 366 days):
        cases submitted, the backlog (those still open, by state), each clock's targets (decided,
        met in time, attainment, missed, median business minutes) and the tenants' ratings."""
        return _report(args)


@blp.route("/reports/sla.csv")
class SlaReportCsv(MethodView):
    @RIGHTS.guard("reports", current_principal)
    @blp.arguments(SlaReportCsvQuerySchema, location="query")
    @blp.doc(responses={"200": CSV_RESPONSE})
    def get(self, args: dict[str, Any]) -> Response:
        """The same report as CSV: one row per group, a column per measure."""
        report = _report(args)
        rows = [reports.csv_row(group, group["display_name"]) for group in report["groups"]]
        filename = f"sla-{args['group_by']}-{args['from_']}-{args['to']}.csv"
        return csv_download(reports.csv_columns(), rows, header=args["header"], filename=filename)
