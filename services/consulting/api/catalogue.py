"""The catalogue: categories and their service items. (Being built: issue 8.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "consulting-categories-and-items",
    "parkhub.consulting.catalogue",
    description="The catalogue: categories and their service items.",
)
