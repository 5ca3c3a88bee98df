"""Organisations as consulting's readers see them beside a case, a quote or a firm: the one
lookup of consulting's directory (the identity service's organisations as this service holds
them) and the one shape, ``{id, name, name_zh}``, that
:class:`shared.http.fields.OrganisationRefSchema` dumps with ``display_name``.

The fallback, once for every answer: an organisation the directory does not hold (yet: identity's
event may not have arrived) keeps its id, its names are null, and ``display_name`` is the id."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from services.consulting.models import directory
from shared import directory as kernel
from shared.directory import Directory, organisation_ref

__all__ = ["Directory", "organisation_ref", "organisation_refs", "organisations"]


def organisations(session: Session, org_ids: Iterable[str | None]) -> Directory:
    """The directory's rows of ``org_ids`` (None and unknown ids left out), in one query
    (:func:`shared.directory.organisations` over consulting's directory)."""
    return kernel.organisations(session, directory, org_ids)


def organisation_refs(session: Session, org_ids: Iterable[str | None]) -> dict[str, dict[str, Any]]:
    """Each of ``org_ids`` as :func:`organisation_ref` shows it, in one query."""
    return kernel.organisation_refs(session, directory, org_ids)
