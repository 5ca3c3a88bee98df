"""Partner API clients' secrets: a keyed hash (HMAC-SHA256), not a password KDF.

A client secret is made by the gateway: 256 random bits (``secrets.token_urlsafe(32)``). There is
nothing to stretch, so scrypt's deliberate cost (which people's passwords keep, see
:mod:`gateway.passwords`) bought nothing but a ceiling of about 5 client-credentials grants a
second per machine. What protects a stolen table is the key: the hash is HMAC-SHA256 under a
server-side key that never enters the database, compared in constant time.

Stored form: ``hmac-sha256$<key id>$<hex digest>``, the key id being the first 8 hex digits of
the key's SHA-256, so a hash made under another key is recognised as such (it no longer matches).
Rows hashed before (werkzeug's ``scrypt:...``) keep verifying, at scrypt's cost once more, and
the token endpoint replaces them with the keyed hash on their next successful use.

The key, in order: ``PARKHUB_CLIENT_SECRET_KEY`` (at least 32 characters; the distributed mode's
secret store), else ``<keys_dir>/client-secret.key``, generated on first start like the signing
key. Every gateway process must use the same key; losing it means rotating every client's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from gateway.keys import read_or_generate
from gateway.passwords import secret_matches
from shared.settings import Settings, SettingsError

SCHEME = "hmac-sha256"
KEY_FILE = "client-secret.key"
MIN_KEY_LENGTH = 32


def new_secret() -> str:
    """A new client secret: 256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


class ClientSecrets:
    """Hashes and checks client secrets under one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_LENGTH:
            raise SettingsError(f"the client-secret key must be at least {MIN_KEY_LENGTH} bytes")
        self._key = key
        self.key_id = hashlib.sha256(key).hexdigest()[:8]
        self._prefix = f"{SCHEME}${self.key_id}$"
        self._decoy = self.hash(new_secret())

    def hash(self, secret: str) -> str:
        return self._prefix + self._digest(secret)

    def is_current(self, stored_hash: str) -> bool:
        """Whether ``stored_hash`` is this scheme under this key (else it is worth replacing)."""
        return stored_hash.startswith(self._prefix)

    def matches(self, stored_hash: str | None, secret: str) -> bool:
        """Whether ``secret`` matches ``stored_hash``: keyed hashes in constant time, older scrypt
        hashes through werkzeug. With no hash (an unknown client) a decoy is compared, so the
        answer takes as long either way."""
        if stored_hash is not None and not stored_hash.startswith(f"{SCHEME}$"):
            return secret_matches(stored_hash, secret)
        candidate = stored_hash or self._decoy
        if not candidate.startswith(self._prefix):
            return False  # made under another key: it can never match again
        expected = candidate.removeprefix(self._prefix)
        return hmac.compare_digest(expected, self._digest(secret)) and stored_hash is not None

    def _digest(self, secret: str) -> str:
        return hmac.new(self._key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def load_client_secrets(settings: Settings) -> ClientSecrets:
    """The gateway's :class:`ClientSecrets` (see the module docstring for the key's source).

    Raises :class:`SettingsError` for a ``PARKHUB_CLIENT_SECRET_KEY`` shorter than 32 characters.
    """
    if settings.client_secret_key:
        return ClientSecrets(settings.client_secret_key.encode())
    key = read_or_generate(settings.keys_dir / KEY_FILE, lambda: new_secret().encode())
    return ClientSecrets(key.strip())
