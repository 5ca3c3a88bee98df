"""The gateway's RS256 signing key and the JWKS document that publishes its public half.

Where the key comes from, in order:
1. ``PARKHUB_SIGNING_KEY`` (``settings.signing_key_pem``): a PEM private key given by the
   environment (the distributed mode's secret store);
2. ``<keys_dir>/signing-key.pem``, generated on first start (RSA 3072, file mode 0600).

The ``kid`` is the key's RFC 7638 thumbprint, so the same key always has the same id in every
process. ``jwks.json`` beside it is rewritten at every start; in the embedded mode the services
read that file (``shared.http.auth.KeySet``), in the distributed mode they fetch
``GET /.well-known/jwks.json``.

Rotation (``parkhub keys rotate``, for the generated key): the old key's public half moves to
``<keys_dir>/retired/<kid>.pem`` and stays in the JWKS for :func:`retirement_grace` (the access
token lifetime plus five minutes), so tokens signed just before the rotation keep working; a new
key signs from the next start on. A key given by ``PARKHUB_SIGNING_KEY`` is rotated in the secret
store instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.settings import Settings, SettingsError

PRIVATE_KEY_FILE = "signing-key.pem"
JWKS_FILE = "jwks.json"
RETIRED_DIR = "retired"
KEY_BITS = 3072


@dataclass(frozen=True)
class SigningKey:
    """A private key with its public JWK. PyJWT signs with ``private_key``, the loaded object:
    handed the PEM it would parse and check the key again for every token (about 30 ms for
    RSA 3072, several times the signature itself)."""

    kid: str
    private_pem: bytes = field(repr=False)
    private_key: rsa.RSAPrivateKey = field(repr=False)
    public_key: rsa.RSAPublicKey = field(repr=False)

    @property
    def public_jwk(self) -> dict[str, Any]:
        return _public_jwk(self.kid, self.public_key)


def _public_jwk(kid: str, public_key: rsa.RSAPublicKey) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(public_key))
    jwk.pop("key_ops", None)  # RFC 7517 §4.3: not together with "use"
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def load_signing_key(settings: Settings) -> SigningKey:
    """The gateway's key (see the module docstring); writes ``jwks.json`` when it can.

    Raises :class:`SettingsError` for a ``PARKHUB_SIGNING_KEY`` that is not an RSA private key.
    """
    if settings.signing_key_pem:
        key = _from_pem(settings.signing_key_pem.encode())
    else:
        key = _from_pem(read_or_generate(settings.keys_dir / PRIVATE_KEY_FILE))
    write_jwks(settings.keys_dir / JWKS_FILE, key, retired_public_keys(settings))
    return key


def jwks_document(key: SigningKey, retired: dict[str, rsa.RSAPublicKey] | None = None) -> dict[str, Any]:
    """The current key first, then the retired keys still in their grace period."""
    return {"keys": [key.public_jwk, *(_public_jwk(kid, public) for kid, public in (retired or {}).items())]}


def write_jwks(path: Path, key: SigningKey, retired: dict[str, rsa.RSAPublicKey] | None = None) -> None:
    """Replace ``path`` atomically, so a service never reads half a document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, json.dumps(jwks_document(key, retired), indent=2).encode(), mode=0o644)


def retirement_grace(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.access_ttl_seconds + 300)


def retired_public_keys(settings: Settings) -> dict[str, rsa.RSAPublicKey]:
    """Retired keys whose grace has not run out, by kid; older ones are deleted."""
    folder = settings.keys_dir / RETIRED_DIR
    keys: dict[str, rsa.RSAPublicKey] = {}
    for path in sorted(folder.glob("*.pem")) if folder.exists() else []:
        if time.time() - path.stat().st_mtime > retirement_grace(settings).total_seconds():
            path.unlink(missing_ok=True)
            continue
        public = serialization.load_pem_public_key(path.read_bytes())
        if isinstance(public, rsa.RSAPublicKey):
            keys[thumbprint(public)] = public
    return keys


def rotate_signing_key(settings: Settings) -> tuple[str, str]:
    """Retire the generated key and make a new one; returns ``(old kid, new kid)``.

    Raises :class:`SettingsError` when the key comes from ``PARKHUB_SIGNING_KEY``.
    """
    if settings.signing_key_pem:
        raise SettingsError("PARKHUB_SIGNING_KEY is set: rotate the key in the secret store that gives it")
    path = settings.keys_dir / PRIVATE_KEY_FILE
    old = _from_pem(read_or_generate(path))
    retired = settings.keys_dir / RETIRED_DIR / f"{old.kid}.pem"
    retired.parent.mkdir(parents=True, exist_ok=True)
    public_pem = old.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _atomic_write(retired, public_pem, mode=0o644)
    _atomic_write(path, generate_private_pem(), mode=0o600)
    new = load_signing_key(settings)
    return old.kid, new.kid


def thumbprint(public_key: rsa.RSAPublicKey) -> str:
    """RFC 7638: SHA-256 over the canonical JSON of the required members, base64url."""
    numbers = public_key.public_numbers()
    members = {"e": _b64uint(numbers.e), "kty": "RSA", "n": _b64uint(numbers.n)}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def generate_private_pem(bits: int = KEY_BITS) -> bytes:
    private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _from_pem(pem: bytes) -> SigningKey:
    try:
        private = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"the signing key is not a readable unencrypted PEM private key: {exc}") from exc
    if not isinstance(private, rsa.RSAPrivateKey):
        raise SettingsError("the signing key must be an RSA private key (tokens are RS256)")
    public = private.public_key()
    return SigningKey(kid=thumbprint(public), private_pem=pem, private_key=private, public_key=public)


def read_or_generate(path: Path, generate: Callable[[], bytes] = generate_private_pem) -> bytes:
    """The secret in ``path`` (mode 0600, directory 0700), made by ``generate`` on first use."""
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    content = generate()
    # Several gunicorn workers may start at once: each writes a temporary file and links it in;
    # link() fails when another already did, and everyone then reads the winner's key.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        os.fchmod(handle, 0o600)
        os.write(handle, content)
        os.fsync(handle)
        os.close(handle)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temporary)
    return path.read_bytes()


def _atomic_write(path: Path, content: bytes, *, mode: int) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        os.fchmod(handle, mode)
        os.write(handle, content)
        os.fsync(handle)
        os.close(handle)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _b64uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
