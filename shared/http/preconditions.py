"""Optimistic concurrency over HTTP: ``ETag`` is the resource's version, updates need ``If-Match``."""

from __future__ import annotations

from flask import request

from shared.errors import PreconditionFailed, PreconditionRequired

__all__ = ["IF_MATCH", "PreconditionFailed", "PreconditionRequired", "check_if_match", "etag", "versioned_headers"]

IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}
"""The OpenAPI parameter of every update and state transition (``@blp.doc(parameters=[IF_MATCH])``)."""


def etag(version: int) -> str:
    return f'"{version}"'


def versioned_headers(version: int, location: str | None = None) -> dict[str, str]:
    """``ETag`` of a resource at ``version``, and its ``Location`` when it was just created."""
    headers = {"ETag": etag(version)}
    if location is not None:
        headers["Location"] = location
    return headers


def check_if_match(version: int) -> None:
    """Refuse a change unless ``If-Match`` names the current version (428 if absent, 412 if stale)."""
    header = request.headers.get("If-Match")
    if not header:
        raise PreconditionRequired("Send If-Match with the ETag you last read, so changes are never lost.")
    # If-Match compares strongly (RFC 9110 §13.1.1): a weak tag W/"3" never matches.
    candidates = {tag.strip() for tag in header.split(",")}
    if "*" not in candidates and etag(version) not in candidates:
        raise PreconditionFailed(
            f"The resource changed since you read it (now at version {version}); read it again.",
            current_etag=etag(version),
        )
