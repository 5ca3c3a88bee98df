"""A case's thread of messages and their attachments. (Being built: issue 8.)"""

from __future__ import annotations

from shared.http.blueprint import Blueprint

blp = Blueprint(
    "consulting-messages",
    "parkhub.consulting.messages",
    description="A case's thread of messages and their attachments.",
)
