"""Settings from environment variables: the run mode is configuration, never a code fork.

Every setting has an embedded-mode default so ``parkhub serve`` needs none; the distributed
mode sets database and broker URLs (see docker-compose.yml).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("booking", "consulting", "finance", "notify")
"""The bounded contexts behind the gateway, in routing order."""

DATABASES = ("gateway", *SERVICES)
"""One database per owner: the gateway (identity) and each service."""


class SettingsError(RuntimeError):
    """A setting is missing or malformed; raised at start, never mid-request."""


@dataclass(frozen=True)
class Settings:
    """The whole platform's configuration, read once at start."""

    var_dir: Path
    bus_url: str = "memory://"
    bus_namespace: str = "parkhub"
    database_urls: Mapping[str, str] = field(default_factory=dict)
    upstreams: Mapping[str, str] = field(default_factory=dict)
    jwks_url: str = ""
    issuer: str = "parkhub-gateway"
    audience: str = "parkhub-api"
    access_ttl_seconds: int = 900
    refresh_ttl_seconds: int = 30 * 24 * 3600
    revocation_refresh_seconds: float = 2.0
    """How stale a service's snapshot of revoked access tokens may be (``PARKHUB_REVOCATION_REFRESH_SECONDS``;
    0: re-read on every request): a revocation holds everywhere within event delivery + this."""
    signing_key_pem: str = ""
    client_secret_key: str = field(default="", repr=False)
    """The gateway's key for hashing partner client secrets (HMAC); empty: generated under var/keys."""
    portal_origins: tuple[str, ...] = ("http://localhost:5173",)
    rate_limit: str = "600/minute"
    max_body_bytes: int = 10 * 1024 * 1024
    retry_attempts: int = 5
    retry_base_seconds: float = 0.2
    consulting_files: str = "database"
    """Where consulting keeps attachments' bytes: ``database`` (its own database, the default) or
    a directory (absolute, or relative to ``var_dir``): ``PARKHUB_CONSULTING_FILES``."""
    finance_files: str = "database"
    """Where finance keeps applications' documents: ``database`` (the default) or a directory:
    ``PARKHUB_FINANCE_FILES``."""
    webhook_allow_private: bool = False
    """Whether partner webhooks may go to private, loopback or link-local addresses
    (``PARKHUB_WEBHOOK_ALLOW_PRIVATE=1``): tests and closed installations only."""
    webhook_ca_bundle: str | None = None
    """A CA bundle (PEM file) to verify partners' HTTPS with (``PARKHUB_WEBHOOK_CA_BUNDLE``); None: the system's."""
    webhook_timeout_seconds: float = 10.0
    """How long one webhook request may take, connecting and answering (``PARKHUB_WEBHOOK_TIMEOUT_SECONDS``)."""
    job_seconds: float | None = None
    """Every scheduled job's period when set (PARKHUB_JOB_SECONDS): demos and end-to-end tests
    run the workers' jobs every second instead of each service's own period."""
    meeting_answer_minutes: float = 10.0
    """How long consulting waits for booking to answer a meeting's room hold before the meeting
    shows ``no_answer`` for staff to retry (``PARKHUB_MEETING_ANSWER_MINUTES``)."""
    valuation_answer_minutes: float = 30.0
    """How long finance waits for consulting to open a valuation case before the request shows
    ``no_answer`` for the desk to act on (``PARKHUB_VALUATION_ANSWER_MINUTES``)."""
    metrics_port: int = 0
    """Where a worker and ``parkhub serve`` answer ``/metrics`` (``PARKHUB_METRICS_PORT``; 0: they
    do not). An API process and the gateway answer it on their own port (docs/OPERATIONS.md)."""
    smtp_host: str | None = None
    """Notify's SMTP server (``PARKHUB_SMTP_HOST``); None (unset or empty): e-mail is off, and the
    e-mails notify queues are marked ``skipped`` instead of sent (docs/NOTIFY.md)."""
    smtp_port: int = 25
    """``PARKHUB_SMTP_PORT``."""
    smtp_from: str = "ParkHub <noreply@parkhub.local>"
    """The ``From`` of notify's e-mails: ``PARKHUB_SMTP_FROM``."""
    smtp_starttls: bool = False
    """Upgrade the connection with STARTTLS before anything is sent: ``PARKHUB_SMTP_STARTTLS``
    (``1``/``true``/``yes``)."""
    smtp_username: str | None = None
    """Log in with these when set: ``PARKHUB_SMTP_USERNAME`` and ``PARKHUB_SMTP_PASSWORD``."""
    smtp_password: str | None = field(default=None, repr=False)
    smtp_timeout_seconds: float = 10.0
    """How long notify waits for the SMTP server to take one e-mail, its whole exchange (and each
    command within it): ``PARKHUB_SMTP_TIMEOUT_SECONDS``."""

    @property
    def bus_is_volatile(self) -> bool:
        """True when the broker keeps nothing across a crash (the embedded in-memory bus)."""
        return self.bus_url.startswith("memory://")

    @property
    def keys_dir(self) -> Path:
        return self.var_dir / "keys"

    def database_url(self, name: str) -> str:
        if name not in DATABASES:
            raise SettingsError(f"unknown database {name!r}; known: {', '.join(DATABASES)}")
        return self.database_urls[name]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``PARKHUB_*`` variables; fail fast on a malformed value."""
        env = os.environ if env is None else env
        var_dir = Path(env.get("PARKHUB_VAR_DIR", "var")).resolve()
        template = env.get("PARKHUB_DATABASE_URL_TEMPLATE", f"sqlite:///{var_dir}/{{name}}.db")
        databases = {name: env.get(f"PARKHUB_DB_{name.upper()}", template.format(name=name)) for name in DATABASES}
        upstreams = {  # the gateway's own too: nginx routes everything else to it
            name: env[f"PARKHUB_UPSTREAM_{name.upper()}"]
            for name in DATABASES
            if f"PARKHUB_UPSTREAM_{name.upper()}" in env
        }
        try:
            return cls(
                var_dir=var_dir,
                bus_url=env.get("PARKHUB_BUS_URL", "memory://"),
                bus_namespace=env.get("PARKHUB_BUS_NAMESPACE", "parkhub"),
                database_urls=databases,
                upstreams=upstreams,
                jwks_url=env.get("PARKHUB_JWKS_URL", ""),
                issuer=env.get("PARKHUB_ISSUER", "parkhub-gateway"),
                audience=env.get("PARKHUB_AUDIENCE", "parkhub-api"),
                access_ttl_seconds=int(env.get("PARKHUB_ACCESS_TTL", "900")),
                refresh_ttl_seconds=int(env.get("PARKHUB_REFRESH_TTL", str(30 * 24 * 3600))),
                revocation_refresh_seconds=float(env.get("PARKHUB_REVOCATION_REFRESH_SECONDS", "2") or "2"),
                signing_key_pem=env.get("PARKHUB_SIGNING_KEY", ""),
                client_secret_key=env.get("PARKHUB_CLIENT_SECRET_KEY", ""),
                portal_origins=tuple(
                    o.strip()
                    for o in env.get("PARKHUB_PORTAL_ORIGINS", "http://localhost:5173").split(",")
                    if o.strip()
                ),
                rate_limit=env.get("PARKHUB_RATE_LIMIT", "600/minute"),
                max_body_bytes=int(env.get("PARKHUB_MAX_BODY_BYTES", str(10 * 1024 * 1024))),
                retry_attempts=int(env.get("PARKHUB_RETRY_ATTEMPTS", "5")),
                retry_base_seconds=float(env.get("PARKHUB_RETRY_BASE_SECONDS", "0.2")),
                consulting_files=env.get("PARKHUB_CONSULTING_FILES", "database").strip() or "database",
                finance_files=env.get("PARKHUB_FINANCE_FILES", "database").strip() or "database",
                job_seconds=float(env["PARKHUB_JOB_SECONDS"]) if env.get("PARKHUB_JOB_SECONDS") else None,
                metrics_port=int(env.get("PARKHUB_METRICS_PORT", "0") or "0"),
                meeting_answer_minutes=float(env.get("PARKHUB_MEETING_ANSWER_MINUTES", "10")),
                valuation_answer_minutes=float(env.get("PARKHUB_VALUATION_ANSWER_MINUTES", "30")),
                webhook_allow_private=env.get("PARKHUB_WEBHOOK_ALLOW_PRIVATE", "").strip().lower()
                in ("1", "true", "yes"),
                webhook_ca_bundle=env.get("PARKHUB_WEBHOOK_CA_BUNDLE", "").strip() or None,
                webhook_timeout_seconds=float(env.get("PARKHUB_WEBHOOK_TIMEOUT_SECONDS", "10")),
                smtp_host=env.get("PARKHUB_SMTP_HOST", "").strip() or None,
                smtp_port=int(env.get("PARKHUB_SMTP_PORT", "25")),
                smtp_from=env.get("PARKHUB_SMTP_FROM", "").strip() or "ParkHub <noreply@parkhub.local>",
                smtp_starttls=env.get("PARKHUB_SMTP_STARTTLS", "").strip().lower() in ("1", "true", "yes", "on"),
                smtp_username=env.get("PARKHUB_SMTP_USERNAME") or None,
                smtp_password=env.get("PARKHUB_SMTP_PASSWORD") or None,
                smtp_timeout_seconds=float(env.get("PARKHUB_SMTP_TIMEOUT_SECONDS", "10")),
            )
        except ValueError as exc:
            raise SettingsError(f"malformed PARKHUB_* setting: {exc}") from exc

    @property
    def jwks_source(self) -> str:
        """Where services read the gateway's public keys: a URL, or the file the gateway writes."""
        return self.jwks_url or str(self.keys_dir / "jwks.json")
