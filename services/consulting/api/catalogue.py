"""``/categories`` and ``/items``: the catalogue. Everyone signed in reads it (tenants and firms
the active part, without the firms behind a category); park admin creates and changes it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask.views import MethodView

from services.consulting.api.schemas.catalogue import (
    CategoryInSchema,
    CategoryListSchema,
    CategoryPatchSchema,
    CategoryQuerySchema,
    CategorySchema,
    ItemInSchema,
    ItemListSchema,
    ItemPatchSchema,
    ItemQuerySchema,
    ItemSchema,
)
from services.consulting.commands.catalogue import SaveCategory, SaveItem
from services.consulting.handlers.catalogue import save_category, save_item
from services.consulting.permissions import RIGHTS
from services.consulting.queries.catalogue import get_category, get_item, list_categories, list_items
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "consulting-categories-and-items",
    "parkhub.consulting.catalogue",
    description="The catalogue: categories and their service items.",
)

PREFIX = "/api/v1/consulting"


def _money(body: dict[str, Any]) -> dict[str, Any]:
    """The fee bounds of a body as decimals (the schema took them as strings: never floats)."""
    for name in ("fee_from", "fee_to"):
        if body.get(name) is not None:
            body[name] = Decimal(body[name])
    return body


@blp.route("/categories")
class Categories(MethodView):
    @RIGHTS.guard("read_catalogue", current_principal)
    @blp.arguments(CategoryQuerySchema, location="query")
    @blp.response(200, CategoryListSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The categories in the park's order: the active ones (the staff every one, with the
        firms serving each; ``active`` narrows their list)."""
        with reading() as session:
            return list_categories(session, current_principal(), args)

    @RIGHTS.guard("manage_catalogue", current_principal)
    @idempotent()
    @blp.arguments(CategoryInSchema)
    @blp.response(201, CategorySchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any]) -> Any:
        """Add a category (park admin); 409 ``rule/category-code-taken`` when the code exists."""
        category = execute(save_category, SaveCategory(current_principal(), body))
        return category, 201, versioned_headers(category["version"], f"{PREFIX}/categories/{category['code']}")


@blp.route("/categories/<string(maxlength=64):code>")
class CategoryByCode(MethodView):
    @RIGHTS.guard("read_catalogue", current_principal)
    @blp.response(200, CategorySchema)
    def get(self, code: str) -> Any:
        """One category; ``ETag`` is its version. An inactive one is a 404 but for the staff."""
        with reading() as session:
            category = get_category(session, current_principal(), code)
        return category, 200, versioned_headers(category["version"])

    @RIGHTS.guard("manage_catalogue", current_principal)
    @blp.arguments(CategoryPatchSchema)
    @blp.response(200, CategorySchema)
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, body: dict[str, Any], code: str) -> Any:
        """Change a category (park admin; ``If-Match``). ``active: false`` hides it and its items
        from tenants and firms; cases already submitted go on."""
        command = SaveCategory(current_principal(), body, code=code, expected_versions=if_match_versions())
        category = execute(save_category, command)
        return category, 200, versioned_headers(category["version"])


@blp.route("/items")
class Items(MethodView):
    @RIGHTS.guard("read_catalogue", current_principal)
    @blp.arguments(ItemQuerySchema, location="query")
    @blp.response(200, ItemListSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The service items, by category then position: what a tenant needs to submit (intake
        form, fee guidance, whether a quote is needed, the park's targets)."""
        with reading() as session:
            return list_items(session, current_principal(), args)

    @RIGHTS.guard("manage_catalogue", current_principal)
    @idempotent()
    @blp.arguments(ItemInSchema)
    @blp.response(201, ItemSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any]) -> Any:
        """Add a service item (park admin): 422 for a bad intake form, SLA policy or fee range,
        409 ``rule/item-code-taken`` when the code exists."""
        item = execute(save_item, SaveItem(current_principal(), _money(body)))
        return item, 201, versioned_headers(item["version"], f"{PREFIX}/items/{item['id']}")


@blp.route("/items/<uuid:item_id>")
class ItemById(MethodView):
    @RIGHTS.guard("read_catalogue", current_principal)
    @blp.response(200, ItemSchema)
    def get(self, item_id: Any) -> Any:
        """One service item; ``ETag`` is its version. An inactive one is a 404 but for the staff."""
        with reading() as session:
            item = get_item(session, current_principal(), str(item_id))
        return item, 200, versioned_headers(item["version"])

    @RIGHTS.guard("manage_catalogue", current_principal)
    @blp.arguments(ItemPatchSchema)
    @blp.response(200, ItemSchema)
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, body: dict[str, Any], item_id: Any) -> Any:
        """Change a service item (park admin; ``If-Match``). A new SLA policy applies to cases
        submitted from now on: running clocks keep the targets they copied."""
        command = SaveItem(
            current_principal(), _money(body), item_id=str(item_id), expected_versions=if_match_versions()
        )
        item = execute(save_item, command)
        return item, 200, versioned_headers(item["version"])
