"""A case's thread as one reader sees it, and the attachment a reader may download."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.consulting.models import Attachment, Case, Message
from services.consulting.permissions import RIGHTS, can_see, may_read, visible_messages
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal

API = "/api/v1/consulting"


def visible_case(session: Session, actor: Principal, case_id: str) -> Case:
    """The case if ``actor`` may see it; a 404 for anybody else (as handlers.common.load_case)."""
    case = session.get(Case, case_id)
    if case is None or not can_see(actor, case):
        raise NotFound(_("There is no case {id}.", id=case_id), code="not-found")
    return case


def attachment_view(row: Attachment) -> dict[str, Any]:
    return {
        "id": row.id,
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "url": f"{API}/cases/{row.case_id}/attachments/{row.id}",
    }


def message_view(row: Message, attachments: list[Attachment]) -> dict[str, Any]:
    return {
        "id": row.id,
        "case_id": row.case_id,
        "visibility": row.visibility,
        "body": row.body,
        "author": row.author,
        "author_name": row.author_name,
        "author_side": row.author_side,
        "created_at": row.created_at,
        "attachments": [attachment_view(a) for a in attachments],
    }


def thread(session: Session, actor: Principal, case_id: str) -> list[dict[str, Any]]:
    """The messages of the case ``actor`` reads (``permissions.visible_messages``), oldest first,
    each with its attachments; a 404 when the case is not theirs to see."""
    case = visible_case(session, actor, case_id)
    visibilities = visible_messages(actor, case)
    if not visibilities:
        return []
    rows = list(
        session.scalars(
            select(Message)
            .where(Message.case_id == case.id, Message.visibility.in_(visibilities))
            .order_by(Message.created_at, Message.id)
        )
    )
    files: dict[str, list[Attachment]] = defaultdict(list)
    if rows:
        query = (
            select(Attachment)
            .where(Attachment.message_id.in_([r.id for r in rows]))
            .order_by(Attachment.created_at, Attachment.id)
        )
        for attachment in session.scalars(query):
            files[attachment.message_id].append(attachment)
    return [message_view(r, files[r.id]) for r in rows]


def downloadable(session: Session, actor: Principal, case_id: str, attachment_id: str) -> Attachment:
    """The attachment ``attachment_id`` of case ``case_id`` if ``actor`` may download it: the
    ``download_attachment`` row and the reading row of its message's visibility. Anybody else,
    and an attachment of another case, is a 404: an attachment's existence says nothing."""
    missing = NotFound(_("There is no attachment {id}.", id=attachment_id), code="not-found")
    case = session.get(Case, case_id)
    if case is None or not can_see(actor, case):
        raise missing
    found = session.execute(
        select(Attachment, Message.visibility)
        .join(Message, Message.id == Attachment.message_id)
        .where(Attachment.id == attachment_id, Attachment.case_id == case.id)
    ).first()
    if found is None:
        raise missing
    attachment, visibility = found
    if not (RIGHTS.allows(actor, "download_attachment", case) and may_read(actor, case, visibility)):
        raise missing
    return attachment
