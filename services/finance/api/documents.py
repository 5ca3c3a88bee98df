"""An application's documents and the patents of an IP-pledge application, their valuation and
the pledge's registration.

``POST /applications/{id}/documents`` takes ``multipart/form-data``: ``doc_type``, optionally
``review_id`` (the partner's request it answers), and one ``file`` part; its body may be as large
as a document allows (:data:`UPLOAD_LIMIT`, over the platform's usual
``PARKHUB_MAX_BODY_BYTES``; the edge lets it through: ``gateway.routes.LARGE_BODIES``). A document
is downloaded as its bytes, with the type they are and a safe name.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Response, request
from flask.views import MethodView

from services.finance.api.schemas.documents import (
    DocumentSchema,
    DocumentsSchema,
    PatentInSchema,
    PatentSchema,
    PatentsSchema,
    PledgeInSchema,
    PledgeSchema,
    ValuationInSchema,
    ValuationRequestSchema,
)
from services.finance.commands.documents import (
    AddPatent,
    DeleteDocument,
    DeletePatent,
    RecordPledge,
    RecordValuation,
    RequestValuation,
    UploadDocument,
    UploadedFile,
)
from services.finance.handlers.documents import (
    MAX_DOCUMENT_BYTES,
    add_patent,
    delete_document,
    delete_patent,
    record_pledge,
    record_valuation,
    upload_document,
)
from services.finance.handlers.valuations import request_valuation
from services.finance.models import DocumentBlob
from services.finance.permissions import RIGHTS
from services.finance.queries import documents as queries
from shared.files.kinds import MiB, content_disposition
from shared.files.store import configured_store, store_named
from shared.files.uploads import accepts_uploads, unknown_parts
from shared.http.app import service_context
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.problems import RequestProblem
from shared.http.views import execute, reading
from shared.i18n import _

blp = Blueprint(
    "finance-documents",
    "parkhub.finance.documents",
    description="An application's documents and the patents of an IP-pledge application.",
)

UPLOAD_LIMIT = MAX_DOCUMENT_BYTES + MiB
"""The largest body of an upload: one document (20 MiB) and the form around it."""
FORM_FIELDS = ("doc_type", "review_id")
FILE_PART = "file"

UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["doc_type", "file"],
                "properties": {
                    "doc_type": {"type": "string", "maxLength": 64, "description": "a type of the checklist"},
                    "review_id": {
                        "type": "string",
                        "format": "uuid",
                        "description": "the partner's request for information it answers",
                    },
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "PDF, PNG, JPEG, GIF, WEBP, docx, xlsx, pptx, UTF-8 text or CSV, ZIP; "
                        "at most 20 MiB",
                    },
                },
            }
        }
    },
}


def _invalid(errors: dict[str, Any]) -> RequestProblem:
    return RequestProblem(
        422, _("The request is not valid; see errors for each field."), code="validation-failed", errors=errors
    )


def upload_request() -> tuple[str, str | None, UploadedFile]:
    """``doc_type``, ``review_id`` and the one file of a multipart form (415 for anything else);
    a missing, repeated or unknown part is a 422."""
    if request.mimetype != "multipart/form-data":
        raise RequestProblem(415, _("Send the document as multipart/form-data."), code="unsupported-media-type")
    errors: dict[str, list[str]] = unknown_parts(FORM_FIELDS, FILE_PART)
    doc_type = request.form.get("doc_type", "").strip()
    if not doc_type or len(doc_type) > 64 or "\x00" in doc_type:
        errors["doc_type"] = [_("A document type of the checklist, such as business_licence.").msgid]
    review_id = request.form.get("review_id", "").strip() or None
    if review_id is not None and len(review_id) > 36:
        errors["review_id"] = [_("Not a valid review id.").msgid]
    parts = [p for p in request.files.getlist(FILE_PART) if p.filename or p.content_length]
    if len(parts) != 1:
        errors[FILE_PART] = [_("Send exactly one file.").msgid]
    if errors:
        raise _invalid(errors)
    part = parts[0]
    return doc_type, review_id, UploadedFile(part.filename or "", part.read())


def application_url(application_id: Any, tail: str) -> str:
    return f"/api/v1/finance/applications/{application_id}/{tail}"


@blp.route("/applications/<uuid:application_id>/documents")
class ApplicationDocuments(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, DocumentsSchema)
    def get(self, application_id: Any) -> dict[str, Any]:
        """The documents and the product's checklist beside them: which required types are
        present and which are ``missing``, and what partners' open requests ask for (who may read
        the application: the tenant, a partner it is routed to, staff; others 404)."""
        with reading() as session:
            return queries.documents(session, current_principal(), str(application_id))

    @RIGHTS.guard("edit", current_principal)
    @accepts_uploads(UPLOAD_LIMIT, parts=len(FORM_FIELDS) + 1 + 20)
    @idempotent()
    @blp.response(201, DocumentSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY], requestBody=UPLOAD_BODY)
    def post(self, application_id: Any) -> Any:
        """Upload a document (the tenant): in a draft, of a type of the checklist; later only to
        answer a partner's request for information (then linked to its review), of the
        checklist's types or one the partner asked for. 409 ``rule/documents-closed``; 422
        ``rule/document-type``, ``rule/document-review``, ``rule/attachment-type``,
        ``rule/attachment-empty``, ``rule/attachment-too-large``; 413 over 21 MiB."""
        doc_type, review_id, file = upload_request()
        command = UploadDocument(current_principal(), str(application_id), doc_type, file, review_id)
        settings = service_context().settings
        store = configured_store(settings.finance_files, settings.var_dir, DocumentBlob)
        document = execute(partial(upload_document, store=store), command)
        return document, 201, {"Location": document["url"]}


@blp.route("/applications/<uuid:application_id>/documents/<uuid:document_id>")
class ApplicationDocument(MethodView):
    @RIGHTS.guard("read", current_principal)
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
    def get(self, application_id: Any, document_id: Any) -> Response:
        """Download a document: whoever may read the application (a partner only when it is
        routed to it; anybody else: 404)."""
        settings = service_context().settings
        with reading() as session:
            row = queries.document(session, current_principal(), str(application_id), str(document_id))
            tag, content_type, filename = row.sha256, row.content_type, row.filename
            unchanged = tag in request.if_none_match
            store = store_named(row.storage, settings.finance_files, settings.var_dir, DocumentBlob)
            data = b"" if unchanged else store.get(session, row.storage_key)
        response = Response(data, status=304 if unchanged else 200, content_type=content_type)
        response.headers["Content-Disposition"] = content_disposition(filename)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response.headers["Cache-Control"] = "private, no-cache"
        response.set_etag(tag)
        return response

    @RIGHTS.guard("edit", current_principal)
    @blp.response(204)
    def delete(self, application_id: Any, document_id: Any) -> Any:
        """Remove a document of a draft (the tenant); 409 ``rule/documents-closed`` once submitted."""
        command = DeleteDocument(current_principal(), str(application_id), str(document_id))
        execute(partial(delete_document, settings=service_context().settings), command)
        return "", 204


@blp.route("/applications/<uuid:application_id>/patents")
class ApplicationPatents(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, PatentsSchema)
    def get(self, application_id: Any) -> dict[str, Any]:
        """The patents, each with the pledge registration's pre-check (``rules.ip_pledge``: not
        granted, fees unpaid, another holder, pledged already, expiring before the loan ends),
        and every failure together (none listed: ``rule/patent-none``)."""
        with reading() as session:
            return queries.patents(session, current_principal(), str(application_id))

    @RIGHTS.guard("edit", current_principal)
    @idempotent()
    @blp.arguments(PatentInSchema)
    @blp.response(201, PatentSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any], application_id: Any) -> Any:
        """List a patent on a draft IP-pledge application (the tenant), answered with its
        pre-check. 409 ``rule/not-ip-pledge``, ``rule/patents-closed``, ``rule/patent-duplicate``;
        422 ``rule/patent-number-format``, ``rule/patent-check-digit``."""
        command = AddPatent(current_principal(), str(application_id), dict(body))
        patent = execute(add_patent, command)
        return patent, 201, {"Location": application_url(application_id, f"patents/{patent['id']}")}


@blp.route("/applications/<uuid:application_id>/patents/<uuid:patent_id>")
class ApplicationPatent(MethodView):
    @RIGHTS.guard("edit", current_principal)
    @blp.response(204)
    def delete(self, application_id: Any, patent_id: Any) -> Any:
        """Remove a patent from a draft (the tenant); 409 ``rule/patents-closed`` once submitted."""
        execute(delete_patent, DeletePatent(current_principal(), str(application_id), str(patent_id)))
        return "", 204


def answer(view: dict[str, Any]) -> Any:
    return view, 200, versioned_headers(view["version"])


@blp.route("/applications/<uuid:application_id>/valuation-request")
class ValuationRequest(MethodView):
    @RIGHTS.guard("request_valuation", current_principal)
    @blp.arguments(ValuationRequestSchema(), required=False)
    @blp.response(200, PledgeSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any] | None, application_id: Any) -> Any:
        """Ask an appraisal firm to value the patents (desk staff): publishes
        ``finance.ip_valuation.requested``. 409 ``rule/not-ip-pledge``, ``rule/valuation-state``;
        422 ``rule/patent-none``, ``rule/appraiser``."""
        command = RequestValuation(
            current_principal(),
            str(application_id),
            (body or {}).get("appraiser_org_id"),
            expected_versions=if_match_versions(),
        )
        return answer(execute(request_valuation, command))


@blp.route("/applications/<uuid:application_id>/valuation")
class Valuation(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, PledgeSchema)
    def get(self, application_id: Any) -> Any:
        """The valuation, the loan-to-value ratio and the pledge (who may read the application)."""
        with reading() as session:
            return answer(queries.valuation(session, current_principal(), str(application_id)))

    @RIGHTS.guard("record_valuation", current_principal)
    @blp.arguments(ValuationInSchema)
    @blp.response(200, PledgeSchema)
    @blp.doc(parameters=[IF_MATCH])
    def put(self, body: dict[str, Any], application_id: Any) -> Any:
        """Record the patents' appraised value (desk staff, or the accepted partner); the
        loan-to-value ratio is the application's amount over it, in percent. 409
        ``rule/not-ip-pledge``, ``rule/valuation-state``; 422 ``rule/amount-*``,
        ``rule/valuation-positive``, ``rule/appraiser``."""
        command = RecordValuation(
            current_principal(),
            str(application_id),
            body["amount"],
            body.get("appraiser_org_id"),
            expected_versions=if_match_versions(),
        )
        return answer(execute(record_valuation, command))


@blp.route("/applications/<uuid:application_id>/pledge")
class Pledge(MethodView):
    @RIGHTS.guard("record_pledge", current_principal)
    @blp.arguments(PledgeInSchema)
    @blp.response(200, PledgeSchema)
    @blp.doc(parameters=[IF_MATCH])
    def put(self, body: dict[str, Any], application_id: Any) -> Any:
        """Record the pledge's registration (the accepted partner, or staff) after acceptance;
        released when the application closes. 409 ``rule/not-ip-pledge``, ``rule/pledge-state``,
        ``rule/pledge-released``; 422 ``rule/pledge-date``."""
        command = RecordPledge(
            current_principal(),
            str(application_id),
            body["number"],
            body["registered_on"],
            expected_versions=if_match_versions(),
        )
        return answer(execute(record_pledge, command))
