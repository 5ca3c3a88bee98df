"""``/users``: accounts that sign in with a password.

A park admin manages everyone; a tenant admin lists and manages the members of their own
organisation, with tenant roles only; desk staff read. Anyone may read their own account.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from gateway import commands, handlers, queries
from gateway.api import read_session, unit_of_work
from gateway.api.schemas import UserCreateSchema, UserPatchSchema, UserQuerySchema, UserSchema
from gateway.models import User
from shared.http.app import current_database
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.pagination import page_schema
from shared.http.preconditions import IF_MATCH, check_if_match, etag_header, versioned_headers

blp = Blueprint("users", __name__, description="User accounts of the operator, tenants and partners.")

VERSIONED = {"ETag": etag_header("The account's version; send it back as If-Match to change it.")}


def _headers(user: User, *, created: bool = False) -> dict[str, str]:
    return versioned_headers(user.version, f"/api/v1/users/{user.id}" if created else None)


@blp.route("/users")
class Users(MethodView):
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, page_schema(UserSchema))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List accounts: staff all, a tenant admin their organisation's (others 403)."""
        actor = current_principal()
        with read_session() as session:
            return queries.list_users(session, actor, args)

    @idempotent(current_database)
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema, headers=VERSIONED)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any]) -> Any:
        """Create an account. ``organisation_id`` defaults to the caller's; roles must fit the
        organisation's kind (422); a taken username is a 409."""
        actor = current_principal()
        organisation_id = str(body.pop("organisation_id", None) or actor.org_id)
        command = commands.CreateUser(organisation_id=organisation_id, **body)
        with unit_of_work() as uow:
            user = handlers.create_user(command, uow=uow, actor=actor)
            uow.commit()
        return user, 201, _headers(user, created=True)


@blp.route("/users/<uuid:user_id>")
class UserById(MethodView):
    @blp.response(200, UserSchema, headers=VERSIONED)
    def get(self, user_id: Any) -> Any:
        """Read one account (404 outside the caller's reach)."""
        actor = current_principal()
        with read_session() as session:
            user = queries.get_user(session, actor, str(user_id))
        return user, 200, _headers(user)

    @blp.arguments(UserPatchSchema)
    @blp.response(200, UserSchema, headers=VERSIONED)
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, body: dict[str, Any], user_id: Any) -> Any:
        """Change name, email, roles, password or ``active`` (deactivated accounts cannot sign
        in, and their refresh tokens stop working); needs ``If-Match``."""
        actor = current_principal()
        command = commands.UpdateUser(str(user_id), body)
        with unit_of_work() as uow:
            user = handlers.update_user(command, uow=uow, actor=actor, precondition=check_if_match)
            uow.commit()
        return user, 200, _headers(user)
