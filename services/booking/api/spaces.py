"""``/spaces``: every signed-in user reads them; park admin creates, changes and closes them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask.views import MethodView

from services.booking import handlers
from services.booking.api.schemas.spaces import (
    AdminHistorySchema,
    ClosureInSchema,
    ClosureListSchema,
    ClosureSchema,
    SpaceInSchema,
    SpacePatchSchema,
    SpaceQuerySchema,
    SpaceSchema,
    TimelineQuerySchema,
    TimelineSchema,
)
from services.booking.commands import AddClosure, RemoveClosure, SaveSpace
from services.booking.permissions import RIGHTS
from services.booking.queries import availability, spaces
from shared.clock import PARK_TZ, utcnow
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.pagination import page_schema
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint("booking-spaces", "parkhub.booking.spaces", description="The park's bookable rooms, halls and courts.")


@blp.route("/spaces")
class Spaces(MethodView):
    @RIGHTS.guard("read_spaces", current_principal)
    @blp.arguments(SpaceQuerySchema, location="query")
    @blp.response(200, page_schema(SpaceSchema))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List spaces by kind, seats, layout, equipment or building."""
        if not RIGHTS.allows(current_principal(), "read_inactive_spaces"):
            args["include_inactive"] = False
        with reading() as session:
            return spaces.list_spaces(session, args)

    @RIGHTS.guard("manage_spaces", current_principal)
    @idempotent()
    @blp.arguments(SpaceInSchema)
    @blp.response(201, SpaceSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any]) -> Any:
        """Add a space with its rules (park admin)."""
        space = execute(handlers.save_space, SaveSpace(current_principal(), body))
        return space, 201, versioned_headers(space["version"], f"/api/v1/booking/spaces/{space['id']}")


@blp.route("/spaces/<uuid:space_id>")
class SpaceById(MethodView):
    @RIGHTS.guard("read_spaces", current_principal)
    @blp.response(200, SpaceSchema)
    def get(self, space_id: Any) -> Any:
        """One space, its rules and prices; ``ETag`` is its version."""
        with reading() as session:
            space = spaces.get_space(
                session, str(space_id), include_inactive=RIGHTS.allows(current_principal(), "read_inactive_spaces")
            )
        return space, 200, versioned_headers(space["version"])

    @RIGHTS.guard("manage_spaces", current_principal)
    @blp.arguments(SpacePatchSchema(partial=True))
    @blp.response(200, SpaceSchema)
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, body: dict[str, Any], space_id: Any) -> Any:
        """Change a space (park admin; ``If-Match``). ``active: false`` takes it off the market."""
        command = SaveSpace(current_principal(), body, space_id=str(space_id), expected_versions=if_match_versions())
        space = execute(handlers.save_space, command)
        return space, 200, versioned_headers(space["version"])


@blp.route("/spaces/<uuid:space_id>/timeline")
class SpaceTimeline(MethodView):
    @RIGHTS.guard("read_spaces", current_principal)
    @blp.arguments(TimelineQuerySchema, location="query")
    @blp.response(200, TimelineSchema)
    def get(self, args: dict[str, Any], space_id: Any) -> dict[str, Any]:
        """A day or a week of one space in park time: open, closed, busy and free. Others'
        reservations show only as busy intervals."""
        day: date = args.get("date") or datetime.now(PARK_TZ).date()
        with reading() as session:
            return availability.timeline(
                session, current_principal(), str(space_id), day, days=7 if args["view"] == "week" else 1, now=utcnow()
            )


@blp.route("/spaces/<uuid:space_id>/closures")
class SpaceClosures(MethodView):
    @RIGHTS.guard("read_spaces", current_principal)
    @blp.response(200, ClosureListSchema)
    def get(self, space_id: Any) -> dict[str, Any]:
        """Closures (maintenance, holidays) that have not ended."""
        with reading() as session:
            return {"items": spaces.list_closures(session, str(space_id), utcnow())}

    @RIGHTS.guard("manage_spaces", current_principal)
    @idempotent()
    @blp.arguments(ClosureInSchema)
    @blp.response(201, ClosureSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any], space_id: Any) -> Any:
        """Close a space for a time (park admin). Reservations already there are kept."""
        command = AddClosure(current_principal(), str(space_id), body["start"], body["end"], body["reason"])
        return execute(handlers.add_closure, command), 201


@blp.route("/spaces/<uuid:space_id>/closures/<uuid:closure_id>")
class SpaceClosure(MethodView):
    @RIGHTS.guard("manage_spaces", current_principal)
    @blp.response(204)
    def delete(self, space_id: Any, closure_id: Any) -> None:
        """Reopen: remove a closure (park admin)."""
        execute(handlers.remove_closure, RemoveClosure(current_principal(), str(space_id), str(closure_id)))


@blp.route("/spaces/<uuid:space_id>/history")
class SpaceHistory(MethodView):
    @RIGHTS.guard("read_space_history", current_principal)
    @blp.response(200, AdminHistorySchema)
    def get(self, space_id: Any) -> dict[str, Any]:
        """The audit trail of the space: who created or changed it, added or lifted closures."""
        with reading() as session:
            spaces.get_space(session, str(space_id))
            return {"items": spaces.admin_history(session, "space", str(space_id))}
