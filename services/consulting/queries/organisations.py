"""Organisations as consulting's readers see them beside a case, a quote or a firm: the one
lookup of consulting's directory (the identity service's organisations as this service holds
them) and the one shape, ``{id, name, name_zh}``, that
:class:`shared.http.fields.OrganisationRefSchema` dumps with ``display_name``.

The fallback, once for every answer: an organisation the directory does not hold (yet: identity's
event may not have arrived) keeps its id, its names are null, and ``display_name`` is the id."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.consulting.models import directory

Directory = Mapping[str, Mapping[str, Any]]
"""id → the directory's row (``id``, ``name``, ``name_zh``, ``kind``, ``status``)."""


def organisations(session: Session, org_ids: Iterable[str | None]) -> Directory:
    """The directory's rows of ``org_ids`` (None and unknown ids left out), in one query."""
    ids = {i for i in org_ids if i}
    if not ids:
        return {}
    rows = session.execute(
        select(directory.c.id, directory.c.name, directory.c.name_zh, directory.c.kind, directory.c.status).where(
            directory.c.id.in_(ids)
        )
    ).mappings()
    return {row["id"]: dict(row) for row in rows}


def organisation_ref(rows: Directory, org_id: str | None) -> dict[str, Any] | None:
    """``org_id`` as :class:`~shared.http.fields.OrganisationRefSchema` shows it (None without
    an id; names null when the directory does not hold it)."""
    if org_id is None:
        return None
    row = rows.get(org_id)
    return {"id": org_id, "name": row["name"] if row else None, "name_zh": row["name_zh"] if row else None}


def organisation_refs(session: Session, org_ids: Iterable[str | None]) -> dict[str, dict[str, Any]]:
    """Each of ``org_ids`` as :func:`organisation_ref` shows it, in one query."""
    ids = [i for i in org_ids if i]
    rows = organisations(session, ids)
    return {i: ref for i in ids if (ref := organisation_ref(rows, i)) is not None}
