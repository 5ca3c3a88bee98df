"""Optimistic concurrency over HTTP: ``ETag`` is the resource's version, updates need ``If-Match``."""

from __future__ import annotations

from typing import Any

from flask import request

from shared.errors import PreconditionFailed, PreconditionRequired
from shared.i18n import _

__all__ = [
    "IF_MATCH",
    "PreconditionFailed",
    "PreconditionRequired",
    "etag",
    "etag_header",
    "if_match_versions",
    "versioned_headers",
]

IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}
"""The OpenAPI parameter of every update and state transition (``@blp.doc(parameters=[IF_MATCH])``)."""


def etag_header(description: str) -> dict[str, Any]:
    """The OpenAPI doc of an ``ETag`` response header (``@blp.response(..., headers={"ETag": ...})``).

    A header object needs a ``schema`` (or ``content``) to be valid OpenAPI; ours is the quoted
    version that :func:`etag` writes.
    """
    return {
        "description": description,
        "schema": {"type": "string", "pattern": '^"[0-9]+"$', "examples": ['"3"']},
    }


def etag(version: int) -> str:
    return f'"{version}"'


def versioned_headers(version: int, location: str | None = None) -> dict[str, str]:
    """``ETag`` of a resource at ``version``, and its ``Location`` when it was just created."""
    headers = {"ETag": etag(version)}
    if location is not None:
        headers["Location"] = location
    return headers


def if_match_versions() -> frozenset[int] | None:
    """The versions ``If-Match`` names (None for ``*``): 428 when it is absent, 412 when a tag is
    not one of our ETags. Comparison is strong (RFC 9110 §13.1.1): a weak tag ``W/"3"`` never
    matches, so it is refused like any other foreign tag."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired(_("Send If-Match with the ETag you last read, so changes are never lost."))
    versions: set[int] = set()
    for raw in header.split(","):
        tag = raw.strip()
        if tag == "*":
            return None
        if not (len(tag) > 2 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit()):
            raise PreconditionFailed(_("If-Match {tag} is not an ETag of this API.", tag=repr(tag[:40])))
        versions.add(int(tag[1:-1]))
    return frozenset(versions)
