"""Applications as their readers see them: one application, a page of them, the audit trail."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from services.finance.models import Application, ApplicationTransition, Document, Product, Review, directory
from services.finance.permissions import can_see, list_scope
from services.finance.queries.valuations import latest_requests, valuation_view
from services.finance.queries.views import application_view, line_shown, transition_view
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal


def visible_application(session: Session, actor: Principal, application_id: str) -> Application:
    """The application if ``actor`` may read it; a 404 for anyone else (ids do not leak)."""
    application = session.get(Application, application_id)
    if application is None or not can_see(actor, application):
        raise NotFound(_("There is no application {id}.", id=application_id), code="not-found")
    return application


def organisations(session: Session, org_ids: Iterable[str | None]) -> dict[str, dict[str, Any]]:
    """The directory's rows (``id``, ``name``, ``name_zh``) of ``org_ids``, in one query."""
    ids = {i for i in org_ids if i}
    if not ids:
        return {}
    rows = session.execute(
        select(directory.c.id, directory.c.name, directory.c.name_zh).where(directory.c.id.in_(ids))
    ).mappings()
    return {row["id"]: dict(row) for row in rows}


def _views(
    session: Session,
    actor: Principal,
    applications: list[Application],
    *,
    products: Mapping[str, Product] | None = None,
    documents: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """The views of ``applications``; ``products`` and ``documents`` (counts by application)
    when the caller holds them already (a handler that just read or wrote them), else read."""
    if not applications:
        return []
    ids = [a.id for a in applications]
    if products is None:
        wanted = {a.product_id for a in applications}
        products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(wanted)))}
    counts: Mapping[str, int] = documents if documents is not None else document_counts(session, ids)
    shown = [o for a in applications for o in (a.org_id, a.accepted_partner_org_id, *a.partner_org_ids)]
    names = organisations(session, shown)
    requests = latest_requests(session, [a.id for a in applications if a.product_kind == "ip_pledge_loan"])
    return [
        {
            **application_view(
                a, actor, product=products[a.product_id], organisations=names, documents=counts.get(a.id, 0)
            ),
            "valuation": valuation_view(actor, a, requests.get(a.id)),
        }
        for a in applications
    ]


def document_counts(session: Session, application_ids: list[str]) -> dict[str, int]:
    """How many documents each of ``application_ids`` has (those with none are left out)."""
    rows = session.execute(
        select(Document.application_id, func.count())
        .where(Document.application_id.in_(application_ids))
        .group_by(Document.application_id)
    )
    return {application_id: int(count) for application_id, count in rows}


def application_detail(
    session: Session,
    actor: Principal,
    application: Application,
    *,
    product: Product | None = None,
    documents: int | None = None,
) -> dict[str, Any]:
    """``application`` as ``actor`` reads it, with the actions open to the caller. A handler
    passes its ``product`` (and the number of its ``documents`` when it knows it, e.g. 0 for a
    new draft) so that the answer reads them no second time."""
    return _views(
        session,
        actor,
        [application],
        products=None if product is None else {product.id: product},
        documents=None if documents is None else {application.id: documents},
    )[0]


def get_application(session: Session, actor: Principal, application_id: str) -> dict[str, Any]:
    return application_detail(session, actor, visible_application(session, actor, application_id))


def history(session: Session, actor: Principal, application_id: str) -> list[dict[str, Any]]:
    """The audit trail, oldest first, as ``actor`` reads it (queries/views.py says what each sees)."""
    visible_application(session, actor, application_id)
    lines = session.scalars(
        select(ApplicationTransition)
        .where(ApplicationTransition.application_id == application_id)
        .order_by(ApplicationTransition.id)
    )
    return [transition_view(line, actor) for line in lines if line_shown(actor, line)]


def scope_of(actor: Principal) -> ColumnElement[bool]:
    """The applications ``actor``'s lists hold (``permissions.list_scope``): staff all; a partner
    those routed to its partner (a review of it, whatever its state); a tenant their
    organisation's."""
    scope = list_scope(actor)
    if scope == "all":
        return Application.id.is_not(None)
    if scope == "partner":
        routed = select(Review.application_id).where(Review.partner_org_id == actor.org_id)
        return Application.id.in_(routed)
    return Application.org_id == actor.org_id


def filtered(actor: Principal, args: Mapping[str, Any]) -> Select[Any]:
    """The list's query: the caller's scope, then each filter given (a filter only narrows;
    ``org_id`` is the staff's: others' scope is narrower already)."""
    query = select(Application).where(scope_of(actor))
    if args.get("status"):
        query = query.where(Application.status.in_(args["status"]))
    if args.get("product_id"):
        query = query.where(Application.product_id == str(args["product_id"]))
    if args.get("kind"):
        query = query.where(Application.product_kind == args["kind"])
    if args.get("org_id"):
        query = query.where(Application.org_id == args["org_id"])
    if args.get("q"):
        query = query.where(Application.number.icontains(args["q"], autoescape=True))
    return query.order_by(Application.created_at.desc(), Application.number.desc())


def list_applications(session: Session, actor: Principal, args: Mapping[str, Any]) -> dict[str, Any]:
    """A page of the applications ``actor`` may list, newest first (``items``, ``page``,
    ``page_size``, ``total``)."""
    query = filtered(actor, args)
    page, size = args.get("page", 1), args.get("page_size", 50)
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    rows: list[Application] = list(session.scalars(query.limit(size).offset((page - 1) * size)))
    return {"items": _views(session, actor, rows), "page": page, "page_size": size, "total": int(total)}
