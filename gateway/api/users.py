"""``/users``: accounts that sign in with a password.

A park admin manages everyone; a tenant admin lists and manages the members of their own
organisation, with tenant roles only; desk staff read. Anyone may read their own account.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask.views import MethodView

from gateway import commands, handlers, queries
from gateway.access import USER_MANAGERS, USER_READERS
from gateway.api.schemas import UserCreateSchema, UserPatchSchema, UserQuerySchema, UserSchema
from gateway.models import User
from shared.http.app import service_context
from shared.http.auth import current_principal, requires
from shared.http.blueprint import Blueprint
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.pagination import page_schema
from shared.http.preconditions import IF_MATCH, etag_header, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint("users", __name__, description="User accounts of the operator, tenants and partners.")

VERSIONED = {"ETag": etag_header("The account's version; send it back as If-Match to change it.")}


def _headers(user: User, *, created: bool = False) -> dict[str, str]:
    return versioned_headers(user.version, f"/api/v1/users/{user.id}" if created else None)


@blp.route("/users")
class Users(MethodView):
    @requires(*USER_READERS)
    @blp.arguments(UserQuerySchema, location="query")
    @blp.response(200, page_schema(UserSchema))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List accounts: staff all, a tenant admin their organisation's (others 403)."""
        actor = current_principal()
        with reading() as session:
            return queries.list_users(session, actor, args)

    @requires(*USER_MANAGERS)
    @idempotent()
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema, headers=VERSIONED)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any]) -> Any:
        """Create an account. ``organisation_id`` defaults to the caller's; roles must fit the
        organisation's kind (422); a taken username is a 409."""
        actor = current_principal()
        organisation_id = str(body.pop("organisation_id", None) or actor.org_id)
        user = execute(handlers.create_user, commands.CreateUser(actor, organisation_id=organisation_id, **body))
        return user, 201, _headers(user, created=True)


@blp.route("/users/<uuid:user_id>")
class UserById(MethodView):
    @requires()
    @blp.response(200, UserSchema, headers=VERSIONED)
    def get(self, user_id: Any) -> Any:
        """Read one account (404 outside the caller's reach)."""
        actor = current_principal()
        with reading() as session:
            user = queries.get_user(session, actor, str(user_id))
        return user, 200, _headers(user)

    @requires(*USER_MANAGERS)
    @blp.arguments(UserPatchSchema)
    @blp.response(200, UserSchema, headers=VERSIONED)
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, body: dict[str, Any], user_id: Any) -> Any:
        """Change name, email, roles, password or ``active`` (deactivated accounts cannot sign
        in, their refresh tokens stop working, and their access tokens, like those of a change of
        roles or password, are refused everywhere within seconds; a new password also ends every
        sign-in of the account, the caller's own included); needs ``If-Match``."""
        command = commands.UpdateUser(current_principal(), str(user_id), body, if_match_versions())
        ttl = service_context().settings.access_ttl_seconds
        user = execute(partial(handlers.update_user, access_ttl_seconds=ttl), command)
        return user, 200, _headers(user)
