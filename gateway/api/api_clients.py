"""``/api-clients``: partners' machine clients for the OAuth2 client-credentials grant (park admin).

The secret is shown once, in the answer that creates or rotates it; only its hash is kept. That
is also why creating takes no ``Idempotency-Key`` (a replay would have to store the secret):
name the ``client_id`` instead, and a retry answers 409 rather than making a twin.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask.views import MethodView

from gateway import commands, handlers, queries
from gateway.access import PARK_ADMIN
from gateway.api import current_client_secrets
from gateway.api.schemas import (
    ApiClientCreateSchema,
    ApiClientPatchSchema,
    ApiClientQuerySchema,
    ApiClientSchema,
    ApiClientWithSecretSchema,
)
from gateway.models import ApiClient
from shared.http.app import service_context
from shared.http.auth import current_principal, requires
from shared.http.blueprint import Blueprint
from shared.http.pagination import page_schema
from shared.http.preconditions import IF_MATCH, etag, etag_header, if_match_versions
from shared.http.views import execute, reading

blp = Blueprint("api-clients", __name__, description="Partner API clients (client credentials).")

NO_STORE = {"Cache-Control": "no-store"}
VERSIONED = {"ETag": etag_header("The client's version; send it back as If-Match to change it.")}


def _with_secret(client: ApiClient, secret: str) -> dict[str, Any]:
    """The client's attributes plus its new secret, for ApiClientWithSecretSchema to dump (a field
    that shows another attribute, like ``role_labels``, reads that attribute)."""
    attributes = {field.attribute or name for name, field in ApiClientSchema().fields.items()}
    return {name: getattr(client, name) for name in attributes} | {"client_secret": secret}


@blp.route("/api-clients")
class ApiClients(MethodView):
    @requires(PARK_ADMIN)
    @blp.arguments(ApiClientQuerySchema, location="query")
    @blp.response(200, page_schema(ApiClientSchema))
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """List API clients, optionally of one organisation."""
        with reading() as session:
            return queries.list_api_clients(session, args)

    @requires(PARK_ADMIN)
    @blp.arguments(ApiClientCreateSchema)
    @blp.response(201, ApiClientWithSecretSchema, headers=VERSIONED)
    def post(self, body: dict[str, Any]) -> Any:
        """Register a client for a partner organisation; the answer holds its secret, once."""
        command = commands.CreateApiClient(
            current_principal(),
            name=body["name"],
            organisation_id=str(body["organisation_id"]),
            roles=body["roles"],
            client_id=body.get("client_id"),
        )
        create = partial(handlers.create_api_client, client_secrets=current_client_secrets())
        client, secret = execute(create, command)
        headers = {**NO_STORE, "ETag": etag(client.version), "Location": f"/api/v1/api-clients/{client.client_id}"}
        return _with_secret(client, secret), 201, headers


@blp.route("/api-clients/<client_id>")
class ApiClientById(MethodView):
    @requires(PARK_ADMIN)
    @blp.response(200, ApiClientSchema, headers=VERSIONED)
    def get(self, client_id: str) -> Any:
        """Read one client (never its secret)."""
        with reading() as session:
            client = queries.get_api_client(session, client_id)
        return client, 200, {"ETag": etag(client.version)}

    @requires(PARK_ADMIN)
    @blp.arguments(ApiClientPatchSchema)
    @blp.response(200, ApiClientSchema, headers=VERSIONED)
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, body: dict[str, Any], client_id: str) -> Any:
        """Rename, change roles, or deactivate (``active: false``) a client; needs ``If-Match``.
        A deactivated client gets no new tokens, and its tokens (as after a change of roles) are
        refused everywhere within seconds."""
        command = commands.UpdateApiClient(current_principal(), client_id, body, if_match_versions())
        ttl = service_context().settings.access_ttl_seconds
        client = execute(partial(handlers.update_api_client, access_ttl_seconds=ttl), command)
        return client, 200, {"ETag": etag(client.version)}


@blp.route("/api-clients/<client_id>/rotate-secret", methods=["POST"])
@requires(PARK_ADMIN)
@blp.response(200, ApiClientWithSecretSchema, headers=VERSIONED)
def rotate_secret(client_id: str) -> Any:
    """Replace the client's secret; the old one stops working at once. The answer holds the new one."""
    rotate = partial(handlers.rotate_client_secret, client_secrets=current_client_secrets())
    client, secret = execute(rotate, commands.RotateClientSecret(current_principal(), client_id))
    return _with_secret(client, secret), 200, {**NO_STORE, "ETag": etag(client.version)}
