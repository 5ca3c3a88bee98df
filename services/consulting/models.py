"""Consulting's tables. Its domain models go here, on ``Base``; ``TABLES`` adds the messaging
tables and the organisation directory every service database holds."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import metadata
from shared.service import service_tables

NAME = "consulting"


class Base(DeclarativeBase):
    metadata = metadata()


TABLES = service_tables(NAME, Base.metadata)
directory = TABLES.directory
database = TABLES.database
