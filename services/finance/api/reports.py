"""``/reports/pipeline``: the pipeline per product or per partner (park admin), as JSON or CSV."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from services.finance.api.schemas.reports import PipelineCsvQuerySchema, PipelineQuerySchema, PipelineReportSchema
from services.finance.permissions import RIGHTS
from services.finance.queries import reports
from shared.clock import utcnow
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.downloads import CSV_RESPONSE, csv_download
from shared.http.languages import current_locale
from shared.http.views import reading

blp = Blueprint("finance-reports", "parkhub.finance.reports", description="The pipeline per product and partner.")


def _display_name(group: dict[str, Any]) -> str:
    """A group's name in the reader's language."""
    if current_locale() == "zh" and group.get("name_zh"):
        return str(group["name_zh"])
    return str(group.get("name") or group["key"])


def _report(args: dict[str, Any]) -> dict[str, Any]:
    with reading() as session:
        report = reports.pipeline_report(session, args["from_"], args["to"], args["group_by"], utcnow())
    for group in report["groups"]:
        group["display_name"] = _display_name(group)
    return report


@blp.route("/reports/pipeline")
class PipelineReport(MethodView):
    @RIGHTS.guard("reports", current_principal)
    @blp.arguments(PipelineQuerySchema, location="query")
    @blp.response(200, PipelineReportSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Per product (``group_by=product``, the default) or per partner (``group_by=partner``),
        over the applications submitted on the park days ``from``–``to`` (both included, at most
        366 days): counts and amounts per state now, reviews decided and offers made (the approval
        rate), the median days from submission to the first offer, and the amount paid out."""
        return _report(args)


@blp.route("/reports/pipeline.csv")
class PipelineReportCsv(MethodView):
    @RIGHTS.guard("reports", current_principal)
    @blp.arguments(PipelineCsvQuerySchema, location="query")
    @blp.doc(responses={"200": CSV_RESPONSE})
    def get(self, args: dict[str, Any]) -> Response:
        """The same report as CSV: one row per group, a column per measure."""
        report = _report(args)
        rows = [reports.csv_row(group, group["display_name"]) for group in report["groups"]]
        filename = f"pipeline-{args['group_by']}-{args['from_']}-{args['to']}.csv"
        return csv_download(reports.csv_columns(), rows, header=args["header"], filename=filename)
