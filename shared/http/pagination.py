"""Page-numbered lists: ``?page=&page_size=`` in, ``{items, page, page_size, total}`` out."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

MAX_PAGE_SIZE = 200


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


_page_schemas: dict[type[Schema], type[Schema]] = {}


def page_schema(item: type[Schema]) -> type[Schema]:
    """The response schema of a page of ``item`` (one class per item schema, for OpenAPI)."""
    if item not in _page_schemas:
        name = item.__name__.removesuffix("Schema") + "Page"
        _page_schemas[item] = Schema.from_dict(
            {
                "items": fields.List(fields.Nested(item), required=True),
                "page": fields.Integer(required=True),
                "page_size": fields.Integer(required=True),
                "total": fields.Integer(required=True),
            },
            name=name,
        )
    return _page_schemas[item]


def paginate(session: Session, query: Select[Any], args: dict[str, int], *, scalars: bool = True) -> dict[str, Any]:
    """Run ``query`` for one page; ``query`` must already be ordered (stable pages)."""
    page, size = args.get("page", 1), args.get("page_size", 50)
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    paged = query.limit(size).offset((page - 1) * size)
    result = session.execute(paged)
    items = list(result.scalars() if scalars else result.mappings())
    return {"items": items, "page": page, "page_size": size, "total": int(total)}
