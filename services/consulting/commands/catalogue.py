"""Commands of the catalogue: park admin saves categories and service items; a firm (or park admin
for it) declares the categories it serves. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.principal import Principal


@dataclass(frozen=True)
class SaveCategory:
    """Create a category (``code`` None: ``details`` carries it) or change the category ``code``
    under ``If-Match`` (``expected_versions``; None: ``*``). ``details`` holds only what is given."""

    actor: Principal
    details: Mapping[str, Any]
    code: str | None = None
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class SaveItem:
    """Create a service item (``item_id`` None) or change one under ``If-Match``."""

    actor: Principal
    details: Mapping[str, Any]
    item_id: str | None = None
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class DeclareCategories:
    """The categories the firm ``firm_org_id`` serves, replacing those it declared before, under
    ``If-Match`` on the declaration's version (a checksum of its codes; 0 while it declared none)."""

    actor: Principal
    firm_org_id: str
    categories: tuple[str, ...]
    expected_versions: frozenset[int] | None = None
