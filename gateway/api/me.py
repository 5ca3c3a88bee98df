"""``GET /me``: who the bearer token names, with their organisation, as the gateway knows them now."""

from __future__ import annotations

from typing import Any

from gateway import queries
from gateway.api.schemas import MeSchema
from gateway.models import User
from gateway.tokens import load_principal
from shared.errors import NotFound
from shared.http.auth import current_principal, requires
from shared.http.blueprint import Blueprint
from shared.http.views import reading
from shared.i18n import _

blp = Blueprint("me", __name__, description="The signed-in user or API client.")


@blp.route("/me")
@requires()
@blp.response(200, MeSchema)
def me() -> dict[str, Any]:
    """The caller: subject, name, roles and organisation. Any valid access token may ask."""
    principal = current_principal()
    with reading() as session:
        found = load_principal(session, principal.subject)
        if found is None:
            raise NotFound(_("The token names an account that no longer exists."))
        found = queries.kept(session, found)
        return {
            "subject": found.subject,
            "kind": "user" if isinstance(found, User) else "client",
            "name": found.display_name if isinstance(found, User) else found.name,
            "username": found.username if isinstance(found, User) else None,
            "email": found.email if isinstance(found, User) else None,
            "roles": sorted(found.roles),
            "organisation": found.organisation,
        }
