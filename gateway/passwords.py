"""Passwords and client secrets: hashed with werkzeug's scrypt (a memory-hard KDF), salted."""

from __future__ import annotations

import secrets
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash


def hash_secret(secret: str) -> str:
    return generate_password_hash(secret)


def secret_matches(stored_hash: str | None, secret: str) -> bool:
    """Whether ``secret`` matches ``stored_hash``; with no hash (an unknown user) a decoy is
    checked, so the answer takes as long either way and usernames cannot be probed."""
    return check_password_hash(stored_hash or _decoy_hash(), secret) and stored_hash is not None


@cache
def _decoy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))
