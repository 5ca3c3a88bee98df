"""A case's thread of messages and their attachments.

``POST /cases/{id}/messages`` takes JSON (``body``, ``visibility``) or ``multipart/form-data``
(the same two fields and one ``file`` part per attachment), and ``Idempotency-Key``. Its body may
be as large as a message's files allow (:data:`UPLOAD_LIMIT`, over the platform's usual
``PARKHUB_MAX_BODY_BYTES``): only this route reads more, and a larger body is a 413 problem
before anything is read. ``GET`` gives the thread as the caller may read it; an attachment is
downloaded as its bytes, with the type they are and a safe name.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Response, request
from flask.views import MethodView
from marshmallow import ValidationError
from webargs import core

from services.consulting.api.schemas.messages import MessageInSchema, MessageSchema, ThreadSchema
from services.consulting.commands.messages import PostMessage, UploadedFile
from services.consulting.handlers.messages import post_message
from services.consulting.handlers.storage import configured_store, store_named
from services.consulting.permissions import RIGHTS
from services.consulting.queries.messages import downloadable, message_url, one_message, thread
from services.consulting.rules.attachments import MAX_FILES, MAX_MESSAGE_BYTES, MiB, content_disposition
from shared.files.uploads import accepts_uploads, unknown_parts
from shared.http.app import service_context
from shared.http.arguments import read_json_body
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.problems import RequestProblem
from shared.http.views import execute, reading
from shared.i18n import _

blp = Blueprint(
    "consulting-messages",
    "parkhub.consulting.messages",
    description="A case's thread of messages and their attachments.",
)

UPLOAD_LIMIT = MAX_MESSAGE_BYTES + MiB
"""The largest body of a message: its files (25 MiB together) and the form around them."""
FORM_FIELDS = ("body", "visibility")
FILE_PART = "file"


def _invalid(errors: dict[str, Any]) -> RequestProblem:
    return RequestProblem(
        422, _("The request is not valid; see errors for each field."), code="validation-failed", errors=errors
    )


def message_request() -> tuple[dict[str, Any], tuple[UploadedFile, ...]]:
    """The message's fields and files, from a JSON body or a multipart form (415 for anything
    else, as every JSON endpoint); a field this endpoint does not take is a 422."""
    files: tuple[UploadedFile, ...] = ()
    if request.mimetype == "multipart/form-data":
        unknown = unknown_parts(FORM_FIELDS, FILE_PART)
        if unknown:
            raise _invalid(unknown)
        raw: Any = {name: request.form[name] for name in FORM_FIELDS if name in request.form}
        parts = (UploadedFile(p.filename or "", p.read()) for p in request.files.getlist(FILE_PART))
        # A browser's form sends an empty part without a name when no file was chosen.
        files = tuple(f for f in parts if f.name or f.data)
    else:
        raw = read_json_body(request)
        if raw is core.missing:
            raw = {}
    try:
        fields = MessageInSchema().load(raw)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        raise _invalid(messages) from None
    return fields, files


MESSAGE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": MessageInSchema},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "body": {"type": "string", "maxLength": 20000},
                    "visibility": {"type": "string", "enum": ["tenant", "desk", "firm"], "default": "tenant"},
                    "file": {
                        "type": "array",
                        "maxItems": MAX_FILES,
                        "items": {"type": "string", "format": "binary"},
                        "description": "one part per file: PDF, PNG, JPEG, GIF, WEBP, docx, xlsx, pptx, UTF-8 text "
                        "or CSV, ZIP; at most 10 MiB each and 25 MiB together",
                    },
                },
            }
        },
    },
}


@blp.route("/cases/<uuid:case_id>/messages")
class CaseMessages(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, ThreadSchema)
    def get(self, case_id: Any) -> dict[str, Any]:
        """The thread, oldest first: only the messages the caller reads (a tenant never sees the
        desk's or the firm's internal notes, a firm never the desk's), each with its attachments."""
        with reading() as session:
            return {"items": thread(session, current_principal(), str(case_id))}

    @RIGHTS.guard("post_tenant_message", current_principal)  # the widest row; the visibility's is checked on the case
    @accepts_uploads(UPLOAD_LIMIT, parts=len(FORM_FIELDS) + MAX_FILES + 20)  # room for a 422 on a sixth file
    @idempotent()
    @blp.response(201, MessageSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY], requestBody=MESSAGE_BODY)
    def post(self, case_id: Any) -> Any:
        """Write a message (``visibility`` tenant by default), with files as ``multipart/form-data``.
        403 naming who may write a visibility the caller may not; 422 ``rule/attachment-type``,
        ``rule/attachment-empty``, ``rule/attachment-too-large``, ``rule/too-many-attachments``,
        ``rule/message-empty``; 409 ``rule/case-ended`` on a case ended more than 14 days ago;
        413 for a body over 26 MiB. ``Location``: the message (``GET …/messages/{id}``)."""
        fields, files = message_request()
        command = PostMessage(current_principal(), str(case_id), fields["body"], fields["visibility"], files)
        store = configured_store(service_context().settings)
        message = execute(partial(post_message, store=store), command)
        return message, 201, {"Location": message_url(message)}


@blp.route("/cases/<uuid:case_id>/messages/<uuid:message_id>")
class CaseMessage(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, MessageSchema)
    def get(self, case_id: Any, message_id: Any) -> dict[str, Any]:
        """One message of the thread with its attachments, if the caller reads it as the thread
        says (a message they may not read, like one that does not exist, is a 404)."""
        with reading() as session:
            return one_message(session, current_principal(), str(case_id), str(message_id))


@blp.route("/cases/<uuid:case_id>/attachments/<uuid:attachment_id>")
class CaseAttachment(MethodView):
    @RIGHTS.guard("download_attachment", current_principal)
    @blp.doc(
        responses={
            "200": {
                "description": "The file's bytes, of the type they are (Content-Type), as an attachment "
                "with a safe name (Content-Disposition, RFC 6266); ETag is their sha256.",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            },
            "304": {"description": "If-None-Match named the ETag: the file has not changed."},
        }
    )
    def get(self, case_id: Any, attachment_id: Any) -> Response:
        """Download an attachment: whoever may read its message (anybody else: 404)."""
        settings = service_context().settings
        with reading() as session:
            row = downloadable(session, current_principal(), str(case_id), str(attachment_id))
            tag, content_type, filename = row.sha256, row.content_type, row.filename
            unchanged = tag in request.if_none_match
            data = b"" if unchanged else store_named(row.storage, settings).get(session, row.storage_key)
        response = Response(data, status=304 if unchanged else 200, content_type=content_type)
        response.headers["Content-Disposition"] = content_disposition(filename)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response.headers["Cache-Control"] = "private, no-cache"
        response.set_etag(tag)
        if not unchanged:
            response.headers["Content-Length"] = str(len(data))
        return response
