"""``/organisations``: the park operator, tenants and partner firms.

Staff read all of them; anyone else reads only their own (another's is a 404). Only a park admin
registers or changes one; each change is published to every service as ``identity.organisation.*``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask.views import MethodView

from gateway import commands, handlers, queries
from gateway.access import PARK_ADMIN
from gateway.api.schemas import (
    OrganisationCreateSchema,
    OrganisationPatchSchema,
    OrganisationQuerySchema,
    OrganisationSchema,
)
from gateway.models import Organisation
from shared.http.app import service_context
from shared.http.auth import STAFF_ROLES, current_principal, requires
from shared.http.blueprint import Blueprint
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.pagination import page_schema
from shared.http.preconditions import IF_MATCH, etag_header, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint("organisations", __name__, description="Organisations: operator, tenants, partners.")

VERSIONED = {"ETag": etag_header("The organisation's version; send it back as If-Match to change it.")}


def _headers(organisation: Organisation, *, created: bool = False) -> dict[str, str]:
    return versioned_headers(organisation.version, f"/api/v1/organisations/{organisation.id}" if created else None)


@blp.route("/organisations")
class Organisations(MethodView):
    @requires(*STAFF_ROLES)
    @blp.arguments(OrganisationQuerySchema, location="query")
    @blp.response(200, page_schema(OrganisationSchema))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List organisations (park staff), filtered by kind, status or part of a name."""
        with reading() as session:
            return queries.list_organisations(session, args)

    @requires(PARK_ADMIN)
    @idempotent()
    @blp.arguments(OrganisationCreateSchema)
    @blp.response(201, OrganisationSchema, headers=VERSIONED)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any]) -> Any:
        """Register an organisation (park admin); publishes ``identity.organisation.registered``.

        409 when the name is taken. With an ``Idempotency-Key`` a retry answers the first response.
        """
        command = commands.RegisterOrganisation(current_principal(), **body)
        organisation = execute(handlers.register_organisation, command)
        return organisation, 201, _headers(organisation, created=True)


@blp.route("/organisations/<uuid:organisation_id>")
class OrganisationById(MethodView):
    @requires()
    @blp.response(200, OrganisationSchema, headers=VERSIONED)
    def get(self, organisation_id: Any) -> Any:
        """Read one organisation: staff any, everyone else only their own (else 404)."""
        actor = current_principal()
        with reading() as session:
            organisation = queries.get_organisation(session, actor, str(organisation_id))
        return organisation, 200, _headers(organisation)

    @requires(PARK_ADMIN)
    @blp.arguments(OrganisationPatchSchema)
    @blp.response(200, OrganisationSchema, headers=VERSIONED)
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, body: dict[str, Any], organisation_id: Any) -> Any:
        """Change name, Chinese name, contact email or status (park admin); needs ``If-Match``
        (428 without, 412 when stale). Publishes ``identity.organisation.updated``. Suspending
        an organisation ends its people's and API clients' access: their access tokens are
        refused everywhere within seconds, and their refresh tokens at once."""
        command = commands.UpdateOrganisation(current_principal(), str(organisation_id), body, if_match_versions())
        ttl = service_context().settings.access_ttl_seconds
        organisation = execute(partial(handlers.update_organisation, access_ttl_seconds=ttl), command)
        return organisation, 200, _headers(organisation)
