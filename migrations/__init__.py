"""One Alembic environment per database: gateway, booking, consulting, finance, notify.

``upgrade_all`` is what ``parkhub migrate`` runs; the tests build their schemas the same way.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from shared.settings import DATABASES, Settings

HERE = Path(__file__).parent


def alembic_config(name: str, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE / name))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["database_name"] = name
    return config


def upgrade(name: str, url: str, revision: str = "head") -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no var/
    command.upgrade(alembic_config(name, url), revision)


def upgrade_all(settings: Settings) -> None:
    for name in DATABASES:
        upgrade(name, settings.database_url(name))
