"""A firm's quotes on a case and the tenant's answers. (Being built: issue 8.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "consulting-quotes", "parkhub.consulting.quotes", description="A firm's quotes on a case and the tenant's answers."
)
