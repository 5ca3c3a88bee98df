"""``/products`` and the company profiles (``/profile``, ``/profiles/{org_id}``). Everyone signed
in reads the products (tenants and partners the active ones); park admin creates and changes
them. A tenant reads its company's profile and its tenant admin writes it; staff read any."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.finance.api.schemas.products import (
    ProductInSchema,
    ProductListSchema,
    ProductPatchSchema,
    ProductQuerySchema,
    ProductSchema,
    ProfileInSchema,
    ProfileSchema,
)
from services.finance.commands.products import SaveProduct, SaveProfile
from services.finance.handlers.products import save_product, save_profile
from services.finance.permissions import RIGHTS
from services.finance.queries.products import get_product, get_profile, list_products
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "finance-products",
    "parkhub.finance.products",
    description="Financing products, their providers and the tenants' company profiles.",
)

PREFIX = "/api/v1/finance"


@blp.route("/products")
class Products(MethodView):
    @RIGHTS.guard("read_products", current_principal)
    @blp.arguments(ProductQuerySchema, location="query")
    @blp.response(200, ProductListSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """The financing products in the park's order, each with its window's state now, its
        eligibility in words, its providers and the all-in annual cost of a typical request
        (tenants and partners: the active ones; staff every one, ``active`` narrowing them)."""
        with reading() as session:
            return list_products(session, current_principal(), args)

    @RIGHTS.guard("manage_products", current_principal)
    @idempotent()
    @blp.arguments(ProductInSchema)
    @blp.response(201, ProductSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any]) -> Any:
        """Add a product (park admin): 422 for bad terms, fees, eligibility rules, checklist, window
        or providers; 409 ``rule/product-code-taken`` when the code exists."""
        product = execute(save_product, SaveProduct(current_principal(), body))
        return product, 201, versioned_headers(product["version"], f"{PREFIX}/products/{product['id']}")


@blp.route("/products/<uuid:product_id>")
class ProductById(MethodView):
    @RIGHTS.guard("read_products", current_principal)
    @blp.response(200, ProductSchema)
    def get(self, product_id: Any) -> Any:
        """One product; ``ETag`` is its version. An inactive one is a 404 but for the staff."""
        with reading() as session:
            product = get_product(session, current_principal(), str(product_id))
        return product, 200, versioned_headers(product["version"])

    @RIGHTS.guard("manage_products", current_principal)
    @blp.arguments(ProductPatchSchema)
    @blp.response(200, ProductSchema)
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, body: dict[str, Any], product_id: Any) -> Any:
        """Change a product (park admin; ``If-Match``); the terms are checked whole after the
        change. ``providers`` replaces them; ``active: false`` hides it from tenants and partners
        (applications made go on)."""
        command = SaveProduct(
            current_principal(), body, product_id=str(product_id), expected_versions=if_match_versions()
        )
        product = execute(save_product, command)
        return product, 200, versioned_headers(product["version"])


@blp.route("/profile")
class OwnProfile(MethodView):
    @RIGHTS.guard("read_profile", current_principal)
    @blp.response(200, ProfileSchema)
    def get(self) -> Any:
        """The company profile of the caller's organisation (what eligibility is checked against);
        version 0 with every value null while none was written."""
        actor = current_principal()
        RIGHTS.require(actor, "read_profile", actor.org_id)
        with reading() as session:
            profile = get_profile(session, actor.org_id)
        return profile, 200, versioned_headers(profile["version"])

    @RIGHTS.guard("edit_profile", current_principal)
    @blp.arguments(ProfileInSchema)
    @blp.response(200, ProfileSchema)
    @blp.doc(parameters=[IF_MATCH])
    def put(self, body: dict[str, Any]) -> Any:
        """Replace the company's profile (its tenant admin; ``If-Match``, ``"0"`` for the first):
        a value left out is null. Applications already submitted keep the copy they took."""
        actor = current_principal()
        command = SaveProfile(actor, actor.org_id, body, expected_versions=if_match_versions())
        profile = execute(save_profile, command)
        return profile, 200, versioned_headers(profile["version"])


@blp.route("/profiles/<string(maxlength=64):org_id>")
class ProfileOf(MethodView):
    @RIGHTS.guard("read_profiles", current_principal)
    @blp.response(200, ProfileSchema)
    def get(self, org_id: str) -> Any:
        """A tenant's company profile (staff); 404 for an organisation that is no tenant."""
        with reading() as session:
            profile = get_profile(session, org_id, staff=True)
        return profile, 200, versioned_headers(profile["version"])
