"""Alembic environment of the finance database."""

from migrations.environment import run_migrations
from services.finance.models import Base

run_migrations(Base.metadata)
