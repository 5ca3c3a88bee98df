"""``/series``: recurring reservations from an RRULE; cancel or move the rest of a series."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.views import MethodView

from services.booking import handlers
from services.booking.api.reservations import booking_fields
from services.booking.api.schemas.reservations import (
    SeriesCancelSchema,
    SeriesInSchema,
    SeriesMoveSchema,
    SeriesOutcomeSchema,
    SeriesSchema,
)
from services.booking.commands import CancelSeries, MoveSeries, RequestSeries, SeriesOutcome
from services.booking.handlers.series import outcome_fields
from services.booking.permissions import RIGHTS
from services.booking.queries import reservations
from shared.errors import DomainError
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.languages import current_locale
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading
from shared.i18n import Message, render

blp = Blueprint("booking-series", "parkhub.booking.series", description="Recurring reservations (RFC 5545 RRULE).")


def _readable(value: Any) -> Any:
    """``value`` with every marked text in it rendered in the request's language."""
    if isinstance(value, Message):
        return render(value, current_locale())
    if isinstance(value, dict):
        return {key: _readable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_readable(item) for item in value]
    return value


def run(handler: Callable[..., SeriesOutcome], command: Any) -> SeriesOutcome:
    """``execute`` the series handler. A refused series (``rule/series-conflict``) lists each
    occurrence's problem inside the problem; the kernel renders a problem's own detail and its
    top-level values in the reader's language, so the texts nested in the list are rendered here."""
    try:
        return execute(handler, command)
    except DomainError as refused:
        refused.extra = _readable(refused.extra)
        raise


def outcome(answer: SeriesOutcome, status: int = 200) -> Any:
    """The series' outcome as the handler wrote it, with its ``ETag`` (and ``Location`` when created)."""
    body = {
        "series_id": answer.series_id,
        "version": answer.version,
        "occurrences": [outcome_fields(o) for o in answer.occurrences],
    }
    location = f"/api/v1/booking/series/{answer.series_id}" if status == 201 else None
    return body, status, versioned_headers(answer.version, location)


@blp.route("/series")
class SeriesCollection(MethodView):
    @RIGHTS.guard("create_series", current_principal)
    @idempotent()
    @blp.arguments(SeriesInSchema)
    @blp.response(201, SeriesOutcomeSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any]) -> Any:
        """Book every occurrence of ``rrule`` (park time) starting with ``start``-``end``.
        ``all_or_nothing``: one refused occurrence refuses all (409 listing each outcome);
        ``skip_conflicts``: the refused ones are listed and left out."""
        command = RequestSeries(**booking_fields(body), rrule=body["rrule"], mode=body["mode"])
        return outcome(run(handlers.request_series, command), 201)


@blp.route("/series/<uuid:series_id>")
class SeriesById(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, SeriesSchema)
    def get(self, series_id: Any) -> Any:
        """A series and all its occurrences."""
        with reading() as session:
            series = reservations.get_series(session, current_principal(), str(series_id))
        return series, 200, versioned_headers(series["version"])


@blp.route("/series/<uuid:series_id>/cancel")
class SeriesCancel(MethodView):
    @RIGHTS.guard("cancel_series", current_principal)
    @blp.arguments(SeriesCancelSchema)
    @blp.response(200, SeriesOutcomeSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], series_id: Any) -> Any:
        """Cancel the rest of the series: from ``from_reservation_id`` on, or every upcoming one.
        (One occurrence alone: cancel that reservation.)"""
        command = CancelSeries(
            current_principal(),
            str(series_id),
            from_reservation_id=str(body["from_reservation_id"]) if body.get("from_reservation_id") else None,
            reason=body.get("reason"),
            expected_versions=if_match_versions(),
        )
        return outcome(run(handlers.cancel_series, command))


@blp.route("/series/<uuid:series_id>/move")
class SeriesMove(MethodView):
    @RIGHTS.guard("move_series", current_principal)
    @blp.arguments(SeriesMoveSchema)
    @blp.response(200, SeriesOutcomeSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], series_id: Any) -> Any:
        """Move the rest of the series by ``shift_minutes`` and/or to ``space_id``. (One
        occurrence alone: reschedule that reservation.)"""
        command = MoveSeries(
            current_principal(),
            str(series_id),
            from_reservation_id=str(body["from_reservation_id"]) if body.get("from_reservation_id") else None,
            shift_minutes=body["shift_minutes"],
            space_id=str(body["space_id"]) if body.get("space_id") else None,
            mode=body["mode"],
            expected_versions=if_match_versions(),
        )
        return outcome(run(handlers.move_series, command))
