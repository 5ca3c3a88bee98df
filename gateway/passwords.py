"""Passwords and client secrets: hashed with werkzeug's scrypt (a memory-hard KDF), salted."""

from __future__ import annotations

import secrets
import threading
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

SCRYPT_AT_ONCE = 2
"""scrypt hashes one process computes at a time: each takes 32 MB while it runs, and 8 sign-ins
at once took a gateway worker to 266 MB (the allocator keeps what a peak took). The others wait
their turn: the process has no more cores to give them anyway."""

_scrypt_slots = threading.BoundedSemaphore(SCRYPT_AT_ONCE)


def hash_secret(secret: str) -> str:
    return generate_password_hash(secret)


def secret_matches(stored_hash: str | None, secret: str) -> bool:
    """Whether ``secret`` matches ``stored_hash``; with no hash (an unknown user) a decoy is
    checked, so the answer takes as long either way and usernames cannot be probed."""
    candidate = stored_hash or _decoy_hash()
    with _scrypt_slots:
        matched = check_password_hash(candidate, secret)
    return matched and stored_hash is not None


@cache
def _decoy_hash() -> str:
    return generate_password_hash(secrets.token_urlsafe(16))
