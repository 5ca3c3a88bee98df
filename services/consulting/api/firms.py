"""Partner firms and the categories they serve. (Being built: issue 8.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "consulting-firms", "parkhub.consulting.firms", description="Partner firms and the categories they serve."
)
