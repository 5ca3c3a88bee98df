"""Alembic environment of the notify database."""

from migrations.environment import run_migrations
from services.notify.models import Base

run_migrations(Base.metadata)
