"""The platform's authorization matrix: every (method, route) the embedded platform serves under
/api/v1, who may call it, and on which organisation's objects (OWASP API1 BOLA, API5 BFLA).

A row is a :class:`Rule`, written compactly with the helpers below (``anyone``, ``staff``,
``admin``, ``sees``...), not one line per cell. The callers are :data:`CALLERS`: anonymous, a
tenant member and a tenant admin of one tenant (ORG_A: bob and alice), desk staff, park admin, the
agent of a law firm and of a bank. A row's ``on`` names the objects its path parameters are filled
with (built by the test, :mod:`tests.security.test_authorization_matrix`): for each, the object of
ORG_A (the tenant callers' own, routed to the law firm or the bank where it is routed at all) and
one of ORG_B or another partner (the callers' *other* organisation's); each object lists who sees it.

The documented answer of a cell (docs/API.md, "Signing in"; BOOKING.md's rights table; CONSULTING.md,
FINANCE.md, NOTIFY.md, identity.md):

- anonymous: 401 (a token is needed);
- a caller in ``forbidden`` (a role the row never admits, or a partner acting on another partner's
  thing where the service says so): 403, whatever the object, before the body is read;
- a caller in ``may`` who sees the object: allowed (2xx, or a 4xx about the body or the object's
  state: 409, 412, 422; never 401/403/404), or the status ``answers`` documents for them;
- anyone else: 404, as if the object did not exist.

A module of data and of the rule that turns a row into a cell's answer; it holds no tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

CALLERS: dict[str, str | None] = {
    "anonymous": None,
    "tenant_member": "bob",
    "tenant_admin": "alice",
    "desk_staff": "desk",
    "park_admin": "admin",
    "firm_agent": "lawyer",
    "bank_agent": "bank",
}
"""Every caller of the matrix and the demo user it signs in as (README.md's demo logins)."""

M, TA, D, A, F, B = "tenant_member", "tenant_admin", "desk_staff", "park_admin", "firm_agent", "bank_agent"
TENANTS = (M, TA)
STAFF = (D, A)
PARTNERS = (F, B)
SIGNED_IN = (*TENANTS, *STAFF, *PARTNERS)

ALLOWED = "allowed"
"""A cell's class when the caller may: 2xx, or a 4xx about the body or state (never 401/403/404)."""

PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/health"): "health: load balancers ask it without a token",
    ("GET", "/api/v1/openapi.json"): "the merged OpenAPI document",
    ("GET", "/api/v1/gateway-openapi.json"): "the gateway's own OpenAPI document",
    ("POST", "/api/v1/auth/token"): "the token endpoint: the credentials are the form",
    ("POST", "/api/v1/auth/revoke"): "RFC 7009 revocation: the token sent is the credential",
    **{
        ("GET", f"/api/v1/{service}/{what}"): f"{service}'s {what}"
        for service in ("booking", "consulting", "finance", "notify")
        for what in ("health", "openapi.json")
    },
    (
        "GET",
        "/api/v1/booking/calendars/<string:collection>/<string:owner_id>/<string:secret>.ics",
    ): "a calendar feed's document: the secret in the link is the key (BOOKING.md, read_feed_document)",
}
"""Routes under /api/v1 answered without a token, each with why (docs/API.md: ``security: []``)."""

Body = Callable[[Any], Any] | Mapping[str, Any] | str | None
"""What every caller of a row sends: JSON (a mapping, or a callable of the world giving one),
``"multipart"`` (a file upload the test builds) or nothing."""


@dataclass(frozen=True)
class Rule:
    """Who may call a route (``may``: on objects they see), who is refused with a 403 whatever the
    object (``forbidden``); everybody else signed in is told the object does not exist (404).
    ``on``: the objects filling the path parameters (None: none of an organisation's, so every
    signed-in caller must be in ``may`` or ``forbidden``). ``others``: the status of a caller in
    ``may`` on an object they do not see, when the service documents a 403 rather than the 404
    (a firm reading another firm). ``answers``: a documented status for a
    caller who may (a dead letter that does not exist is a 404 for park admin). ``fresh``: an
    allowed call consumes its object (a DELETE without If-Match), so each gets one of its own."""

    may: tuple[str, ...]
    forbidden: tuple[str, ...] = ()
    on: str | None = None
    body: Body = None
    query: str | Callable[[Any], str] = ""
    answers: Mapping[str, int] = field(default_factory=dict)
    others: Mapping[str, int] = field(default_factory=dict)
    fresh: bool = False

    def expected(self, caller: str, seen_by: frozenset[str]) -> str | int:
        """The documented answer for ``caller`` on an object ``seen_by`` those callers."""
        if caller == "anonymous":
            return 401
        if caller in self.forbidden:
            return 403
        if caller in self.may and caller in seen_by:
            return self.answers.get(caller, ALLOWED)
        if caller in self.may:
            return self.others.get(caller, 404)
        return 404


def anyone(on: str | None = None, **kw: Any) -> Rule:
    """Every signed-in caller (a catalogue, their own list, their own account)."""
    return Rule(SIGNED_IN, on=on, **kw)


def only(*may: str, on: str | None = None, **kw: Any) -> Rule:
    """Only the roles ``may`` (on objects they see); every other role a 403 whatever the object:
    a function of the park's staff or of one kind of caller (BFLA)."""
    return Rule(tuple(may), tuple(c for c in SIGNED_IN if c not in may), on=on, **kw)


def staff(**kw: Any) -> Rule:
    return only(*STAFF, **kw)


def admin(**kw: Any) -> Rule:
    return only(A, **kw)


def sees(*may: str, on: str, forbidden: tuple[str, ...] = (), **kw: Any) -> Rule:
    """``may`` on the objects they see, 404 on the others (BOLA); ``forbidden`` a 403."""
    return Rule(tuple(may), forbidden, on=on, **kw)


def service_plumbing(prefix: str) -> dict[tuple[str, str], Rule]:
    """What the kernel gives every service: dead letters (staff; replaying one is park admin's,
    and none has died, so park admin is told there is no such letter) and the directory (staff)."""
    return {
        ("GET", f"{prefix}/dead-letters"): staff(),
        ("POST", f"{prefix}/dead-letters/<int(max=9223372036854775807):letter_id>/replay"): admin(
            on="letter", answers={A: 404}
        ),
        ("GET", f"{prefix}/directory/organisations"): staff(),
        ("GET", f"{prefix}/directory/organisations/<uuid:org_id>"): staff(on="organisation"),
    }


def reason(text: str) -> dict[str, str]:
    return {"reason": text}


# -- the gateway ---------------------------------------------------------------------------------

GATEWAY = "/api/v1"
GATEWAY_RULES: dict[tuple[str, str], Rule] = {
    ("GET", "/api/v1/me"): anyone(),
    # identity.md: staff read every organisation and user, everyone their own; park admin changes
    # organisations and API clients; a tenant admin the users of their own organisation.
    ("GET", "/api/v1/organisations"): staff(),
    ("POST", "/api/v1/organisations"): admin(body=lambda w: w.new_organisation()),
    ("GET", "/api/v1/organisations/<uuid:organisation_id>"): sees(*SIGNED_IN, on="organisation"),
    ("PATCH", "/api/v1/organisations/<uuid:organisation_id>"): admin(
        on="organisation", body={"contact_email": "office@example.cn"}
    ),
    ("GET", "/api/v1/users"): only(TA, *STAFF),
    ("POST", "/api/v1/users"): only(TA, A, body=lambda w: w.new_user()),
    ("GET", "/api/v1/users/<uuid:user_id>"): sees(*SIGNED_IN, on="user"),
    ("PATCH", "/api/v1/users/<uuid:user_id>"): sees(
        TA, A, forbidden=(M, D, *PARTNERS), on="user", body={"display_name": "Bob Li 李波"}
    ),
    ("GET", "/api/v1/api-clients"): admin(),
    ("POST", "/api/v1/api-clients"): admin(body=lambda w: w.new_api_client()),
    ("GET", "/api/v1/api-clients/<client_id>"): admin(on="api_client"),
    ("PATCH", "/api/v1/api-clients/<client_id>"): admin(on="api_client", body={"name": "Shudu Bank gateway"}),
    ("POST", "/api/v1/api-clients/<client_id>/rotate-secret"): admin(on="api_client"),
}

# -- booking (BOOKING.md's rights table) -----------------------------------------------------------

BK = "/api/v1/booking"
RES = f"{BK}/reservations/<uuid:reservation_id>"
ORGANISER_SIDE = (M, TA, *STAFF)
"""The organiser (bob, a tenant member), a tenant admin of the organisation, desk staff, park admin."""
BOOKING_RULES: dict[tuple[str, str], Rule] = {
    **service_plumbing(BK),
    ("GET", f"{BK}/spaces"): anyone(),
    ("POST", f"{BK}/spaces"): admin(body=lambda w: w.new_space()),
    ("GET", f"{BK}/spaces/<uuid:space_id>"): anyone(on="space"),
    ("PATCH", f"{BK}/spaces/<uuid:space_id>"): admin(on="space", body={"description": "Refurbished in 2026."}),
    ("GET", f"{BK}/spaces/<uuid:space_id>/timeline"): anyone(on="space"),
    ("GET", f"{BK}/spaces/<uuid:space_id>/closures"): anyone(on="space"),
    ("POST", f"{BK}/spaces/<uuid:space_id>/closures"): admin(on="space", body=lambda w: w.closure_body()),
    ("DELETE", f"{BK}/spaces/<uuid:space_id>/closures/<uuid:closure_id>"): admin(on="closure", fresh=True),
    ("GET", f"{BK}/spaces/<uuid:space_id>/history"): staff(on="space"),
    ("GET", f"{BK}/availability"): anyone(query=lambda w: w.availability_query()),
    ("GET", f"{BK}/reservations"): anyone(),
    ("POST", f"{BK}/reservations"): only(*TENANTS, *STAFF, body=lambda w: w.reservation_body()),
    ("GET", RES): sees(*TENANTS, *STAFF, forbidden=(), on="reservation"),
    ("PATCH", RES): sees(*ORGANISER_SIDE, forbidden=PARTNERS, on="reservation", body={"title": "Board meeting"}),
    ("GET", f"{RES}/history"): sees(*TENANTS, *STAFF, on="reservation"),
    ("POST", f"{RES}/approve"): staff(on="reservation"),
    ("POST", f"{RES}/reject"): staff(on="reservation", body=reason("The room is being painted.")),
    ("POST", f"{RES}/cancel"): sees(
        *ORGANISER_SIDE, forbidden=PARTNERS, on="reservation", body=reason("Plans changed.")
    ),
    ("POST", f"{RES}/check-in"): sees(*TENANTS, *STAFF, on="reservation"),
    ("POST", f"{RES}/complete"): sees(*TENANTS, *STAFF, on="reservation"),
    ("POST", f"{RES}/reschedule"): sees(
        *ORGANISER_SIDE, forbidden=PARTNERS, on="reservation", body=lambda w: w.reschedule_body()
    ),
    ("PUT", f"{RES}/visitors"): sees(
        *ORGANISER_SIDE, forbidden=PARTNERS, on="reservation", body={"visitors": [{"name": "Dr. Ma Lin"}]}
    ),
    ("GET", f"{RES}/booths"): sees(*ORGANISER_SIDE, forbidden=PARTNERS, on="hall"),
    ("POST", f"{RES}/booths"): sees(
        *ORGANISER_SIDE, forbidden=PARTNERS, on="hall", body={"booth": 7, "exhibitor": "Kangcheng"}
    ),
    ("GET", f"{RES}/booths/<int(min=1, max=500):booth>"): sees(*ORGANISER_SIDE, forbidden=PARTNERS, on="booth"),
    ("DELETE", f"{RES}/booths/<int(min=1, max=500):booth>"): sees(
        *ORGANISER_SIDE, forbidden=PARTNERS, on="booth", fresh=True
    ),
    ("POST", f"{BK}/series"): only(*TENANTS, *STAFF, body=lambda w: w.series_body()),
    ("GET", f"{BK}/series/<uuid:series_id>"): sees(*TENANTS, *STAFF, on="series"),
    ("POST", f"{BK}/series/<uuid:series_id>/cancel"): sees(
        *ORGANISER_SIDE, forbidden=PARTNERS, on="series", body=reason("The course ended.")
    ),
    ("POST", f"{BK}/series/<uuid:series_id>/move"): sees(
        *ORGANISER_SIDE, forbidden=PARTNERS, on="series", body=lambda w: w.series_move_body()
    ),
    # An organisation's calendar feed: its members and staff get the link; its tenant admin and
    # staff renew it. Not a guard's row but the handler's (the path says which row applies), and
    # the rows do not hide the organisation: anyone else is told 403 with the row's text.
    ("GET", f"{BK}/calendars/<string:collection>/<string:owner_id>/feed"): sees(
        *TENANTS, *STAFF, forbidden=PARTNERS, on="organisation_feed", others={M: 403, TA: 403}
    ),
    ("POST", f"{BK}/calendars/<string:collection>/<string:owner_id>/feed/rotate"): sees(
        TA, *STAFF, forbidden=(M, *PARTNERS), on="organisation_feed", others={TA: 403}
    ),
    ("GET", f"{BK}/reports/utilisation"): admin(query=lambda w: w.period()),
    ("GET", f"{BK}/reports/utilisation.csv"): admin(query=lambda w: w.period()),
    ("GET", f"{BK}/reports/reservations.csv"): only(TA, *STAFF, query=lambda w: w.period()),
    ("GET", f"{BK}/board"): staff(),
    ("GET", f"{BK}/gate"): staff(),
    ("GET", f"{BK}/quotas"): staff(),
    ("PUT", f"{BK}/quotas"): admin(body=lambda w: w.quota_body()),
    # read_quota_usage: "a member of the organisation" (any role): a partner reads its own
    # organisation's (empty) usage, never another's.
    ("GET", f"{BK}/quotas/usage"): anyone(),
    ("GET", f"{BK}/quotas/history"): staff(),
    ("GET", f"{BK}/park-calendar"): anyone(),
    ("PUT", f"{BK}/park-calendar/<int:year>"): admin(on="year", body=lambda w: w.park_year_body()),
    ("POST", f"{BK}/park-calendar/<int:year>/load"): admin(on="year"),
    ("GET", f"{BK}/park-calendar/history"): staff(),
    ("GET", f"{BK}/financing-rounds"): only(*TENANTS, *STAFF),
}

# -- consulting (CONSULTING.md; tests/consulting/test_every_endpoint.py) ----------------------------

CO = "/api/v1/consulting"
CASE = f"{CO}/cases/<uuid:case_id>"
CASE_SIDE = (*TENANTS, F, *STAFF)
"""Who may read a case they see: its tenant (the submitter, a tenant admin), its firm, staff."""
CONSULTING_RULES: dict[tuple[str, str], Rule] = {
    **service_plumbing(CO),
    ("GET", f"{CO}/categories"): anyone(),
    ("POST", f"{CO}/categories"): admin(
        body={"code": "audit", "name": "Audit", "name_zh": "审计", "routing": "manual", "position": 9}
    ),
    ("GET", f"{CO}/categories/<string(maxlength=64):code>"): anyone(on="category"),
    ("PATCH", f"{CO}/categories/<string(maxlength=64):code>"): admin(on="category", body={"description": "Contracts"}),
    ("GET", f"{CO}/items"): anyone(),
    ("POST", f"{CO}/items"): admin(body=lambda w: w.new_item()),
    ("GET", f"{CO}/items/<uuid:item_id>"): anyone(on="item"),
    ("PATCH", f"{CO}/items/<uuid:item_id>"): admin(on="item", body={"name": "Contract check"}),
    ("GET", f"{CO}/firms"): only(*PARTNERS, *STAFF),
    # A firm reads and declares its own categories; another partner is refused with a 403.
    ("GET", f"{CO}/firms/<uuid:org_id>"): sees(F, *STAFF, forbidden=(*TENANTS, B), on="firm", others={F: 403}),
    ("PUT", f"{CO}/firms/<uuid:org_id>/categories"): sees(
        F, A, forbidden=(*TENANTS, B, D), on="firm", others={F: 403}, body=lambda w: {"categories": ["legal"]}
    ),
    ("GET", f"{CO}/calendar"): anyone(),
    ("PUT", f"{CO}/calendar/hours"): admin(body=lambda w: w.consulting_hours()),
    ("POST", f"{CO}/calendar/years/<int:year>/official"): admin(on="year"),
    ("GET", f"{CO}/calendar/years/<int:year>"): anyone(on="year"),
    ("PUT", f"{CO}/calendar/years/<int:year>"): admin(on="year", body={"days": []}),
    ("GET", f"{CO}/reports/sla"): admin(query=lambda w: w.period()),
    ("GET", f"{CO}/reports/sla.csv"): admin(query=lambda w: w.period()),
    ("GET", f"{CO}/cases"): anyone(),
    ("POST", f"{CO}/cases"): only(*TENANTS, body=lambda w: w.case_body()),
    ("GET", CASE): sees(*CASE_SIDE, on="case"),
    ("GET", f"{CASE}/history"): sees(*CASE_SIDE, on="case"),
    ("POST", f"{CASE}/triage"): staff(on="case", body={}),
    ("POST", f"{CASE}/assign"): staff(on="case", body=lambda w: {"firm_org_id": w.law_firm}),
    ("POST", f"{CASE}/accept"): sees(F, forbidden=(*TENANTS, *STAFF), on="case"),
    ("POST", f"{CASE}/decline"): sees(F, forbidden=(*TENANTS, *STAFF), on="case", body=reason("Too busy.")),
    ("POST", f"{CASE}/start"): sees(F, forbidden=(*TENANTS, *STAFF), on="case"),
    ("POST", f"{CASE}/wait"): sees(F, *STAFF, forbidden=TENANTS, on="case", body=reason("Send the annex.")),
    ("POST", f"{CASE}/resume"): sees(*CASE_SIDE, on="case"),
    ("POST", f"{CASE}/propose-solution"): sees(
        F, forbidden=(*TENANTS, *STAFF), on="case", body={"solution": "Cap the damages of clause 7."}
    ),
    ("POST", f"{CASE}/accept-solution"): sees(*TENANTS, forbidden=(*PARTNERS, *STAFF), on="case"),
    ("POST", f"{CASE}/reject-solution"): sees(
        *TENANTS, forbidden=(*PARTNERS, *STAFF), on="case", body=reason("Clause 9 too.")
    ),
    ("POST", f"{CASE}/cancel"): sees(*TENANTS, *STAFF, forbidden=PARTNERS, on="case", body=reason("Sent twice.")),
    ("POST", f"{CASE}/rating"): sees(*TENANTS, forbidden=(*PARTNERS, *STAFF), on="case", body={"stars": 4}),
    ("GET", f"{CASE}/quotes"): sees(*CASE_SIDE, on="case"),
    ("POST", f"{CASE}/quotes"): sees(
        F, forbidden=(*TENANTS, *STAFF), on="case", body={"fee": "8000.00", "description": "Review and one meeting"}
    ),
    ("GET", f"{CASE}/quotes/<uuid:quote_id>"): sees(*CASE_SIDE, on="quote"),
    ("POST", f"{CASE}/quotes/<uuid:quote_id>/accept"): sees(*TENANTS, forbidden=(*PARTNERS, *STAFF), on="quote"),
    ("POST", f"{CASE}/quotes/<uuid:quote_id>/reject"): sees(
        *TENANTS, forbidden=(*PARTNERS, *STAFF), on="quote", body=reason("Too dear.")
    ),
    ("GET", f"{CASE}/meetings"): sees(*CASE_SIDE, on="case"),
    ("POST", f"{CASE}/meetings"): sees(*TENANTS, F, forbidden=STAFF, on="case", body=lambda w: w.meeting_body()),
    ("GET", f"{CASE}/meetings/<uuid:meeting_id>"): sees(*CASE_SIDE, on="meeting"),
    # The firm reads its case's meeting but did not ask for it: refused by the row (403); on
    # another firm's case it is told the case does not exist (404).
    ("POST", f"{CASE}/meetings/<uuid:meeting_id>/cancel"): sees(
        *TENANTS, *STAFF, F, on="meeting", body=reason("We met online."), answers={F: 403}
    ),
    ("POST", f"{CASE}/meetings/<uuid:meeting_id>/retry"): staff(on="meeting", body={}),
    ("GET", f"{CASE}/messages"): sees(*CASE_SIDE, on="case"),
    ("POST", f"{CASE}/messages"): sees(*CASE_SIDE, on="case", body={"body": "Any news?"}),
    ("GET", f"{CASE}/messages/<uuid:message_id>"): sees(*CASE_SIDE, on="message"),
    ("GET", f"{CASE}/attachments/<uuid:attachment_id>"): sees(*CASE_SIDE, on="attachment"),
    # A valuation case's report is its firm's (the IP agency's): on its own ordinary case the law
    # firm is told it is no valuation case (409); another firm's case does not exist for it.
    ("POST", f"{CASE}/valuation"): sees(
        F, forbidden=(*TENANTS, *STAFF), on="case", body=lambda w: w.valuation_report()
    ),
}

# -- finance (FINANCE.md; tests/finance/test_every_endpoint.py) ------------------------------------

FI = "/api/v1/finance"
APP = f"{FI}/applications/<uuid:application_id>"
REVIEW = f"{APP}/reviews/<string:partner_org_id>"
LOAN_SIDE = (*TENANTS, B, *STAFF)
"""Who reads a loan application they see: its organisation, a bank it was routed to, staff."""
FINANCE_RULES: dict[tuple[str, str], Rule] = {
    **service_plumbing(FI),
    ("GET", f"{FI}/products"): anyone(),
    ("POST", f"{FI}/products"): admin(body=lambda w: w.new_product()),
    ("GET", f"{FI}/products/<uuid:product_id>"): anyone(on="product"),
    ("PATCH", f"{FI}/products/<uuid:product_id>"): admin(on="product", body={"name": "SME loan"}),
    ("GET", f"{FI}/profile"): only(*TENANTS),
    ("PUT", f"{FI}/profile"): only(TA, body=lambda w: w.company_profile()),
    ("GET", f"{FI}/profiles/<string(maxlength=64):org_id>"): staff(on="organisation"),
    ("GET", f"{FI}/reports/pipeline"): admin(query=lambda w: w.period()),
    ("GET", f"{FI}/reports/pipeline.csv"): admin(query=lambda w: w.period()),
    ("GET", f"{FI}/applications"): anyone(),
    ("POST", f"{FI}/applications"): only(*TENANTS, body=lambda w: w.loan_body()),
    ("GET", APP): sees(*LOAN_SIDE, on="application"),
    ("PATCH", APP): sees(*TENANTS, forbidden=(*PARTNERS, *STAFF), on="application", body={"purpose": "Two freezers"}),
    ("GET", f"{APP}/history"): sees(*LOAN_SIDE, on="application"),
    ("POST", f"{APP}/submit"): sees(*TENANTS, forbidden=(*PARTNERS, *STAFF), on="application"),
    ("POST", f"{APP}/start-pre-review"): staff(on="application"),
    ("POST", f"{APP}/route"): staff(on="application", body=lambda w: {"partner_org_ids": [w.bank]}),
    ("POST", f"{APP}/turn-down"): staff(on="application", body=reason("Out of scope.")),
    ("POST", f"{APP}/withdraw"): sees(*TENANTS, forbidden=(*PARTNERS, *STAFF), on="application"),
    ("GET", f"{APP}/reviews"): sees(*LOAN_SIDE, on="application"),
    ("GET", REVIEW): sees(*LOAN_SIDE, on="review"),
    ("POST", f"{REVIEW}/start"): sees(B, forbidden=(*TENANTS, *STAFF), on="review"),
    ("POST", f"{REVIEW}/request-info"): sees(
        B, forbidden=(*TENANTS, *STAFF), on="review", body={"questions": ["Your largest customers?"]}
    ),
    ("POST", f"{REVIEW}/provide-info"): sees(
        *TENANTS, forbidden=(*PARTNERS, *STAFF), on="review", body={"answers": ["Three hospitals"]}
    ),
    ("POST", f"{REVIEW}/decline"): sees(
        B, forbidden=(*TENANTS, *STAFF), on="review", body={"reason_code": "credit_history"}
    ),
    ("POST", f"{APP}/request-info"): sees(
        B, forbidden=(*TENANTS, *STAFF), on="application", body={"questions": ["Your largest customers?"]}
    ),
    ("POST", f"{APP}/provide-info"): sees(
        *TENANTS, forbidden=(*PARTNERS, *STAFF), on="application", body={"answers": ["Three hospitals"]}
    ),
    ("GET", f"{APP}/offers"): sees(*LOAN_SIDE, on="application"),
    ("POST", f"{APP}/offers"): sees(B, forbidden=(*TENANTS, *STAFF), on="application", body=lambda w: w.offer_terms()),
    # A subsidy's approval is the bureau's: on a loan routed to it the bank is told it is no
    # subsidy (409), on another organisation's that it does not exist.
    ("POST", f"{APP}/approval"): sees(B, forbidden=(*TENANTS, *STAFF), on="application", body={"amount": "200000.00"}),
    ("GET", f"{FI}/offers/<uuid:offer_id>"): sees(*LOAN_SIDE, on="offer"),
    ("POST", f"{FI}/offers/<uuid:offer_id>/accept"): sees(TA, forbidden=(M, *PARTNERS, *STAFF), on="offer"),
    ("POST", f"{FI}/offers/<uuid:offer_id>/decline"): sees(
        TA, forbidden=(M, *PARTNERS, *STAFF), on="offer", body=reason("Too dear")
    ),
    ("POST", f"{FI}/offers/<uuid:offer_id>/withdraw"): sees(B, forbidden=(*TENANTS, *STAFF), on="offer"),
    ("GET", f"{APP}/documents"): sees(*LOAN_SIDE, on="application"),
    ("POST", f"{APP}/documents"): sees(*TENANTS, forbidden=(*PARTNERS, *STAFF), on="application", body="multipart"),
    ("GET", f"{APP}/documents/<uuid:document_id>"): sees(*LOAN_SIDE, on="document"),
    ("DELETE", f"{APP}/documents/<uuid:document_id>"): sees(*TENANTS, forbidden=(*PARTNERS, *STAFF), on="document"),
    ("GET", f"{APP}/patents"): sees(*LOAN_SIDE, on="pledge"),
    ("POST", f"{APP}/patents"): sees(
        *TENANTS, forbidden=(*PARTNERS, *STAFF), on="pledge", body=lambda w: w.patent_body()
    ),
    ("DELETE", f"{APP}/patents/<uuid:patent_id>"): sees(*TENANTS, forbidden=(*PARTNERS, *STAFF), on="patent"),
    ("POST", f"{APP}/valuation-request"): staff(on="pledge"),
    ("GET", f"{APP}/valuation"): sees(*LOAN_SIDE, on="pledge"),
    # The valuation and the pledge are the lender's (the partner whose offer was accepted): the
    # bank, routed the pledge but not its lender yet, is refused by the row (403).
    ("PUT", f"{APP}/valuation"): sees(
        B, *STAFF, forbidden=TENANTS, on="pledge", body={"amount": "2000000.00"}, answers={B: 403}
    ),
    ("PUT", f"{APP}/pledge"): sees(
        B,
        *STAFF,
        forbidden=TENANTS,
        on="pledge",
        body=lambda w: {"number": "Y2026510000123", "registered_on": w.today},
        answers={B: 403},
    ),
    ("POST", f"{APP}/contract"): sees(
        B, *STAFF, forbidden=TENANTS, on="lent", body=lambda w: {"contract_number": "SD-2026-001", "signed_on": w.today}
    ),
    ("GET", f"{APP}/disbursements"): sees(*LOAN_SIDE, on="lent"),
    ("POST", f"{APP}/disbursements"): sees(
        B,
        *STAFF,
        forbidden=TENANTS,
        on="lent",
        body=lambda w: {"amount": "1000.00", "disbursed_on": w.today, "reference": "TRX-9"},
    ),
    ("POST", f"{APP}/disbursements/<uuid:disbursement_id>/approve"): sees(B, *STAFF, forbidden=TENANTS, on="tranche"),
    ("POST", f"{APP}/close"): staff(on="lent"),
}

# -- notify (NOTIFY.md) -----------------------------------------------------------------------------

NO = "/api/v1/notify"
HOOK = f"{NO}/webhooks/<uuid:endpoint_id>"
NOTIFY_RULES: dict[tuple[str, str], Rule] = {
    **service_plumbing(NO),
    # Notifications and preferences are the reader's own: another's notification is not found.
    ("GET", f"{NO}/notifications"): anyone(),
    ("GET", f"{NO}/notifications/unread-count"): anyone(),
    ("POST", f"{NO}/notifications/read-all"): anyone(),
    ("POST", f"{NO}/notifications/<uuid:notification_id>/read"): sees(*SIGNED_IN, on="notification"),
    ("GET", f"{NO}/preferences"): anyone(),
    ("PUT", f"{NO}/preferences"): anyone(
        body={"language": "zh", "kinds": [{"kind": "case", "in_app": True, "email": False}]}
    ),
    ("GET", f"{NO}/timeline"): only(*TENANTS, *STAFF),
    # Webhooks: a partner agent manages its organisation's endpoints; nobody else has any.
    ("GET", f"{NO}/webhooks"): only(*PARTNERS),
    ("POST", f"{NO}/webhooks"): only(
        *PARTNERS, body={"url": "https://127.0.0.1:9/parkhub-hook", "event_types": ["finance.*"]}
    ),
    ("GET", HOOK): sees(*PARTNERS, forbidden=(*TENANTS, *STAFF), on="webhook"),
    ("PATCH", HOOK): sees(*PARTNERS, forbidden=(*TENANTS, *STAFF), on="webhook", body={"description": "Ours"}),
    ("DELETE", HOOK): sees(*PARTNERS, forbidden=(*TENANTS, *STAFF), on="webhook"),
    ("POST", f"{HOOK}/rotate-secret"): sees(*PARTNERS, forbidden=(*TENANTS, *STAFF), on="webhook"),
    ("POST", f"{HOOK}/enable"): sees(*PARTNERS, forbidden=(*TENANTS, *STAFF), on="webhook"),
    ("POST", f"{HOOK}/disable"): sees(*PARTNERS, forbidden=(*TENANTS, *STAFF), on="webhook"),
    ("GET", f"{HOOK}/deliveries"): sees(*PARTNERS, forbidden=(*TENANTS, *STAFF), on="webhook"),
    ("GET", f"{HOOK}/deliveries/<string:delivery_id>"): sees(*PARTNERS, forbidden=(*TENANTS, *STAFF), on="delivery"),
    ("POST", f"{HOOK}/deliveries/<string:delivery_id>/replay"): sees(
        *PARTNERS, forbidden=(*TENANTS, *STAFF), on="delivery"
    ),
}

MATRIX: dict[tuple[str, str], Rule] = {
    **GATEWAY_RULES,
    **BOOKING_RULES,
    **CONSULTING_RULES,
    **FINANCE_RULES,
    **NOTIFY_RULES,
}
"""Every (method, route) under /api/v1 that needs a token, and its rule; a route the platform
serves that is neither here nor in :data:`PUBLIC` fails the test, naming it."""
