"""An application's documents and the patents of an IP-pledge application. (Being built: issue 9.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "finance-documents",
    "parkhub.finance.documents",
    description="An application's documents and the patents of an IP-pledge application.",
)
