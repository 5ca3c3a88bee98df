"""A case's thread as one reader sees it, one message, and the attachment a reader may download.

Who reads a message is :func:`services.consulting.permissions.reads_message`: its visibility's
row, and a firm's internal note only by the firm that wrote it (staff read all). A message the
service wrote itself (its ``notice``: a code and values) is read in the reader's language
(:mod:`services.consulting.rules.notices`), and the service's name as the reader's too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.consulting.models import Attachment, Case, Message
from services.consulting.permissions import RIGHTS, can_see, reads_message, visible_messages
from services.consulting.queries.cases import visible_case
from services.consulting.queries.views import actor_name_shown
from services.consulting.rules.notices import notice_text
from shared.errors import NotFound
from shared.i18n import _
from shared.principal import Principal

API = "/api/v1/consulting"


def message_url(message: Mapping[str, Any]) -> str:
    """Where one message (as :func:`message_view` answers it) is read: ``Location`` of its 201."""
    return f"{API}/cases/{message['case_id']}/messages/{message['id']}"


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
    """A message as the API answers it. ``body`` and ``author_name`` may be marked texts (a
    notice's words, the service's name), rendered in the reader's language by the schema."""
    return {
        "id": row.id,
        "case_id": row.case_id,
        "visibility": row.visibility,
        "body": notice_text(row.notice, row.body),
        "notice": row.notice,
        "author": row.author,
        "author_name": actor_name_shown(row.author, row.author_name),
        "author_side": row.author_side,
        "created_at": row.created_at,
        "attachments": [attachment_view(a) for a in attachments],
    }


def _with_files(session: Session, rows: list[Message]) -> list[dict[str, Any]]:
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


def thread(session: Session, actor: Principal, case_id: str) -> list[dict[str, Any]]:
    """The messages of the case ``actor`` reads (``permissions.reads_message``), oldest first,
    each with its attachments; a 404 when the case is not theirs to see."""
    case = visible_case(session, actor, case_id)
    visibilities = visible_messages(actor, case)
    if not visibilities:
        return []
    rows = session.scalars(
        select(Message)
        .where(Message.case_id == case.id, Message.visibility.in_(visibilities))
        .order_by(Message.created_at, Message.id)
    )
    return _with_files(session, [r for r in rows if reads_message(actor, case, r)])


def one_message(session: Session, actor: Principal, case_id: str, message_id: str) -> dict[str, Any]:
    """Message ``message_id`` of case ``case_id`` with its attachments, if ``actor`` reads it (the
    thread's rule); a 404 for anybody else, for a message of another case and for none at all."""
    case = visible_case(session, actor, case_id)
    row = session.get(Message, message_id)
    if row is None or row.case_id != case.id or not reads_message(actor, case, row):
        raise NotFound(_("There is no message {id} on this case.", id=message_id), code="not-found")
    return _with_files(session, [row])[0]


def downloadable(session: Session, actor: Principal, case_id: str, attachment_id: str) -> Attachment:
    """The attachment ``attachment_id`` of case ``case_id`` if ``actor`` may download it: the
    ``download_attachment`` row and the reading of its message (``permissions.reads_message``: a
    firm's internal note's files are that firm's and the staff's). Anybody else,
    and an attachment of another case, is a 404: an attachment's existence says nothing."""
    missing = NotFound(_("There is no attachment {id}.", id=attachment_id), code="not-found")
    case = session.get(Case, case_id)
    if case is None or not can_see(actor, case):
        raise missing
    found = session.execute(
        select(Attachment, Message)
        .join(Message, Message.id == Attachment.message_id)
        .where(Attachment.id == attachment_id, Attachment.case_id == case.id)
    ).first()
    if found is None:
        raise missing
    attachment, message = found
    if not (RIGHTS.allows(actor, "download_attachment", case) and reads_message(actor, case, message)):
        raise missing
    return attachment
