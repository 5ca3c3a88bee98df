"""Commands of the products and the company profiles: park admin saves a product (its terms, its
checklist, its window, its providers); a tenant admin saves the company's profile. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.principal import Principal


@dataclass(frozen=True)
class SaveProduct:
    """Create a product (``product_id`` None: ``details`` carries its code) or change the product
    ``product_id`` under ``If-Match`` (``expected_versions``; None: ``*``). ``details`` holds only
    what is given; ``providers``, when given, replaces the product's providers."""

    actor: Principal
    details: Mapping[str, Any]
    product_id: str | None = None
    expected_versions: frozenset[int] | None = None


@dataclass(frozen=True)
class SaveProfile:
    """Replace the company profile of ``org_id`` (the actor's own organisation) with ``details``
    under ``If-Match`` (version 0: there is none yet)."""

    actor: Principal
    org_id: str
    details: Mapping[str, Any]
    expected_versions: frozenset[int] | None = None
