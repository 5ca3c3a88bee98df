"""A firm's quotes on a case and the tenant's answers.

Proposing takes ``Idempotency-Key``; accepting and rejecting take ``If-Match`` with the quote's
``ETag`` (its ``version``) and answer the quote with its new one.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from services.consulting.api.schemas.quotes import (
    QuoteInSchema,
    QuoteListSchema,
    QuoteRejectSchema,
    QuoteSchema,
)
from services.consulting.commands.quotes import AnswerQuote, ProposeQuote
from services.consulting.handlers.quotes import answer_quote, propose_quote
from services.consulting.permissions import RIGHTS
from services.consulting.queries.quotes import case_quotes, one_quote, quote_url
from shared.http.auth import current_principal
from shared.http.blueprint import Blueprint
from shared.http.fields import EmptySchema
from shared.http.idempotency import IDEMPOTENCY_KEY, idempotent
from shared.http.preconditions import IF_MATCH, if_match_versions, versioned_headers
from shared.http.views import execute, reading

blp = Blueprint(
    "consulting-quotes", "parkhub.consulting.quotes", description="A firm's quotes on a case and the tenant's answers."
)


def answer(quote: dict[str, Any], status: int = 200) -> Any:
    """The quote with its ``ETag`` (and ``Location`` when it was just proposed)."""
    return quote, status, versioned_headers(quote["version"], quote_url(quote) if status == 201 else None)


@blp.route("/cases/<uuid:case_id>/quotes")
class CaseQuotes(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, QuoteListSchema)
    def get(self, case_id: Any) -> dict[str, Any]:
        """The case's quotes, newest first: fee (CNY, two places), status, who proposed and
        answered them and when."""
        with reading() as session:
            return {"items": case_quotes(session, current_principal(), str(case_id))}

    @RIGHTS.guard("propose_quote", current_principal)
    @idempotent()
    @blp.arguments(QuoteInSchema)
    @blp.response(201, QuoteSchema)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body: dict[str, Any], case_id: Any) -> Any:
        """The firm assigned proposes a fee (a decimal string such as ``"12000.00"``, or a
        number) on a case it has accepted and not yet solved; a quote still unanswered is
        superseded. 422 ``rule/fee-invalid``, ``rule/fee-positive``, ``rule/fee-places``,
        ``rule/fee-too-large``; 409 ``rule/state-transition``, ``rule/quote-already-accepted`` (a
        case has one agreed fee). ``Location``: the quote."""
        command = ProposeQuote(current_principal(), str(case_id), body["fee"], body["description"])
        return answer(execute(propose_quote, command), 201)


@blp.route("/cases/<uuid:case_id>/quotes/<uuid:quote_id>")
class CaseQuote(MethodView):
    @RIGHTS.guard("read", current_principal)
    @blp.response(200, QuoteSchema)
    def get(self, case_id: Any, quote_id: Any) -> Any:
        """One quote of the case, with its ``ETag`` (its ``version``, for ``If-Match`` on the
        answer); whoever reads the case's quotes (anybody else, or a quote of another case: 404)."""
        with reading() as session:
            return answer(one_quote(session, current_principal(), str(case_id), str(quote_id)))


@blp.route("/cases/<uuid:case_id>/quotes/<uuid:quote_id>/accept")
class QuoteAccept(MethodView):
    @RIGHTS.guard("accept_quote", current_principal)
    @blp.arguments(EmptySchema(), required=False)
    @blp.response(200, QuoteSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any, quote_id: Any) -> Any:
        """The tenant accepts a proposed quote (409 ``rule/quote-answered`` once answered or
        superseded, ``rule/case-ended`` on a closed or cancelled case)."""
        command = AnswerQuote(current_principal(), str(case_id), str(quote_id), "accept", if_match_versions())
        return answer(execute(answer_quote, command))


@blp.route("/cases/<uuid:case_id>/quotes/<uuid:quote_id>/reject")
class QuoteReject(MethodView):
    @RIGHTS.guard("reject_quote", current_principal)
    @blp.arguments(QuoteRejectSchema(), required=False)
    @blp.response(200, QuoteSchema)
    @blp.doc(parameters=[IF_MATCH])
    def post(self, body: dict[str, Any], case_id: Any, quote_id: Any) -> Any:
        """The tenant rejects a proposed quote, with an optional reason; the firm may propose another."""
        command = AnswerQuote(
            current_principal(),
            str(case_id),
            str(quote_id),
            "reject",
            if_match_versions(),
            reason=(body or {}).get("reason"),
        )
        return answer(execute(answer_quote, command))
