"""Alembic environment of the booking database."""

from migrations.environment import run_migrations
from services.booking.models import Base

run_migrations(Base.metadata)
