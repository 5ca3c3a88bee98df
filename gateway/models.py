"""The gateway's tables: identity (organisations, users, API clients), refresh tokens, the audit
trail, and its messaging tables (the gateway publishes ``identity.*`` events from its outbox).

Models carry the small rules that belong to them (which roles fit an organisation, whether a
principal may sign in); they import nothing from Flask or kombu.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.audit import Chained, define_chain_heads
from shared.bus.tables import BigId, define_messaging_tables
from shared.db import Database, database_for, metadata
from shared.events.identity import PARTNER_KINDS
from shared.principal import STAFF_ROLES
from shared.revocation import define_revocation_table
from shared.settings import Settings

NAME = "gateway"
TS = DateTime(timezone=True)

ROLES_BY_KIND: dict[str, frozenset[str]] = {
    "operator": frozenset(STAFF_ROLES),
    "tenant": frozenset({"tenant_member", "tenant_admin"}),
    **{kind: frozenset({"partner_agent"}) for kind in PARTNER_KINDS},
}
"""The roles a member of each kind of organisation may hold: a tenant's user can never be staff."""

TENANT_ROLES = ROLES_BY_KIND["tenant"]


class Base(DeclarativeBase):
    metadata = metadata()


messaging = define_messaging_tables(Base.metadata)
REVOCATIONS = define_revocation_table(Base.metadata)
"""Access tokens the gateway revoked: written with the event, read by its own verification."""
AUDIT_HEADS = define_chain_heads(Base.metadata)


def database(settings: Settings) -> Database:
    return database_for(NAME, settings.database_url(NAME), messaging)


class Organisation(Base):
    """The park operator, a tenant company, or a partner firm; ``version`` is its ETag.

    ``version`` is SQLAlchemy's version counter on the three versioned models (organisations,
    users, API clients): every UPDATE sets it one higher *where it still holds the value read*, so
    of two changes that both passed ``If-Match`` the later one matches no row and raises
    ``StaleDataError`` (a 412 in the view), instead of overwriting the first."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended')", name="status"),
        CheckConstraint("version >= 1", name="version"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    name_zh: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def event_data(self) -> dict[str, Any]:
        """The ``data`` of ``identity.organisation.*`` events (contract OrganisationV1)."""
        return {
            "id": self.id,
            "name": self.name,
            "name_zh": self.name_zh,
            "kind": self.kind,
            "status": self.status,
            "version": self.version,
        }


class User(Base):
    """A person who signs in with a username and password; ``roles`` must fit the organisation."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint("version >= 1", name="version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @property
    def subject(self) -> str:
        return f"user:{self.id}"

    def event_data(self) -> dict[str, Any]:
        """The ``data`` of ``identity.user.*`` events (contract UserV1): never a password."""
        return {
            "id": self.id,
            "username": self.username,
            "display_name": self.display_name,
            "email": self.email,
            "org_id": self.organisation_id,
            "roles": list(self.roles),
            "active": self.active,
            "version": self.version,
        }


class ApiClient(Base):
    """A partner's machine client (OAuth2 client credentials); the secret is kept only hashed."""

    __tablename__ = "api_clients"
    __table_args__ = (CheckConstraint("version >= 1", name="version"),)

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(TS)
    updated_at: Mapped[datetime] = mapped_column(TS)
    secret_rotated_at: Mapped[datetime | None] = mapped_column(TS)

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @property
    def subject(self) -> str:
        return f"client:{self.client_id}"


class RefreshToken(Base):
    """One refresh token of a family (one sign-in). ``jti`` is the SHA-256 of the opaque token,
    so the table never holds a usable token. A token is used once: it is replaced by the next."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_id: Mapped[str] = mapped_column(String(36), index=True)
    subject: Mapped[str] = mapped_column(String(120), index=True)
    issued_at: Mapped[datetime] = mapped_column(TS)
    expires_at: Mapped[datetime] = mapped_column(TS)
    used_at: Mapped[datetime | None] = mapped_column(TS)
    replaced_by: Mapped[str | None] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(TS)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))


class AuditEntry(Chained, Base):
    """Append-only: who changed what, when, from which state to which, and why."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_entity_entity_id", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(TS)
    actor: Mapped[str] = mapped_column(String(120))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    to_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)
    correlation_id: Mapped[str | None] = mapped_column(String(128))


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _append_only(_mapper: Any, _connection: Any, entry: AuditEntry) -> None:
    # The trail is evidence: a correction is a new entry, never an edit of an old one.
    raise PermissionError(f"audit entry {entry.id} is append-only")
