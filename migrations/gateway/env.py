"""Alembic environment of the gateway database (identity, refresh tokens, audit, messaging)."""

from gateway.models import Base
from migrations.environment import run_migrations

run_migrations(Base.metadata)
