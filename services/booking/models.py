"""Booking's tables: its domain models, its directory of organisations, its messaging tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.bus.tables import define_messaging_tables
from shared.db import Database, database_for, metadata
from shared.directory import define_directory_table
from shared.settings import Settings

NAME = "booking"


class Base(DeclarativeBase):
    metadata = metadata()


messaging = define_messaging_tables(Base.metadata)
directory = define_directory_table(Base.metadata)


def database(settings: Settings) -> Database:
    return database_for(NAME, settings.database_url(NAME), messaging)
