"""Alembic environment of the consulting database."""

from migrations.environment import run_migrations
from services.consulting.models import Base

run_migrations(Base.metadata)
