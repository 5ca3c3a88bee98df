"""Writing in a case's thread: a message with a visibility, and the files it carries.

Who may write each visibility is ``permissions.MESSAGE_RIGHTS``; the files are checked by
``rules.attachments`` (their type by content) and kept by the store the service is set up with
(:mod:`.storage`), in the message's transaction. A message the tenant reads, written by the firm
or the park while the case is open, is a first response for the SLA clocks. Messages publish no
event (issue 8 names none). Nothing here commits.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from services.consulting.commands.messages import PostMessage
from services.consulting.handlers import sla
from services.consulting.handlers.common import load_case, new_id
from services.consulting.handlers.storage import AttachmentStore, new_key
from services.consulting.models import Attachment, Message
from services.consulting.permissions import MESSAGE_RIGHTS, RIGHTS, may_write, sees_tenant_names
from services.consulting.queries.messages import message_view
from services.consulting.rules.attachments import accept_file, check_files
from services.consulting.rules.follow_up import check_message_allowed
from services.consulting.rules.lifecycle import OPEN
from shared.clock import utcnow
from shared.db import UnitOfWork
from shared.errors import RuleViolation
from shared.i18n import _
from shared.principal import Principal


def author_side(actor: Principal) -> str:
    """Whose words a message is, as the thread shows them: the park's staff (``park``), a
    partner firm (``firm``) or the tenant (``tenant``)."""
    if actor.is_staff:
        return "park"
    if actor.is_partner:
        return "firm"
    return "tenant"


def post_message(cmd: PostMessage, *, uow: UnitOfWork, store: AttachmentStore) -> dict[str, Any]:
    """Write ``cmd.body`` with ``cmd.files`` in the case's thread; returns the message.

    A case the actor may not see is a 404; a visibility they may not write a 403 of its row.
    A message says something or carries a file (``rule/message-empty``, 422); files as
    ``rules.attachments`` says (422 naming the file); an ended case takes messages only for a
    short follow-up (``rules.follow_up``, 409 ``rule/case-ended``)."""
    case = load_case(uow, cmd.actor, cmd.case_id)
    if not may_write(cmd.actor, case, cmd.visibility):
        RIGHTS.require(cmd.actor, MESSAGE_RIGHTS[cmd.visibility][0], case)
    now = cmd.at or utcnow()
    check_message_allowed(case.status, case.closed_at or case.updated_at, now, for_tenant=sees_tenant_names(cmd.actor))
    if not cmd.body.strip() and not cmd.files:
        raise RuleViolation(_("A message says something or carries a file."), code="rule/message-empty")
    check_files([len(f.data) for f in cmd.files])
    accepted = [(accept_file(f.name, f.data), f.data) for f in cmd.files]
    side = author_side(cmd.actor)
    message = Message(
        id=new_id(),
        case_id=case.id,
        visibility=cmd.visibility,
        body=cmd.body,
        author=cmd.actor.subject,
        author_name=cmd.actor.name or None,
        author_org_id=cmd.actor.org_id,
        author_side=side,
        created_at=now,
    )
    uow.session.add(message)
    uow.session.flush()  # the message row before the attachments that name it
    attachments = []
    for position, (file, data) in enumerate(accepted):
        key = new_key()
        store.put(uow.session, key, data)
        attachment = Attachment(
            id=new_id(),
            message_id=message.id,
            case_id=case.id,
            filename=file.filename,
            content_type=file.content_type,
            size=file.size,
            sha256=file.sha256,
            storage=store.name,
            storage_key=key,
            # A microsecond apart: the thread lists a message's files in the order they were sent.
            created_at=now + timedelta(microseconds=position),
        )
        uow.session.add(attachment)
        attachments.append(attachment)
    uow.session.flush()
    if cmd.visibility == "tenant" and side != "tenant" and case.status in OPEN:
        sla.on_tenant_visible_message(uow, case, side, now)
    return message_view(message, attachments)
