"""Finance's table of rights (services/finance/permissions.py), with plain principals (no HTTP
yet: there are no endpoints): every row allows exactly whom it expects and refuses everybody else
with a refusal naming who may in English and Chinese; a partner reads the applications routed to
it and its own offers, never another partner's; the list's scopes; docs/FINANCE.md shows exactly
the table."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from services.finance.permissions import RIGHTS, can_see, list_scope, main, sees_offer, sees_tenant_names
from services.finance.rules.lifecycle import ACTIONS, REVIEW_ACTIONS
from shared.errors import PermissionDenied
from shared.i18n import render
from shared.principal import Principal

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Application:
    """What the rows read of an application."""

    org_id: str = "org-a"
    partner_org_ids: tuple[str, ...] = ("bank", "bank2")
    accepted_partner_org_id: str | None = "bank"


@dataclass(frozen=True)
class Offer:
    """What the rows read of an offer (or of a partner's review)."""

    org_id: str = "org-a"
    partner_org_id: str = "bank"
    extra: dict[str, str] = field(default_factory=dict)


def _p(subject: str, org_id: str, org_kind: str, *roles: str) -> Principal:
    return Principal(subject, org_id, org_kind, frozenset(roles))


PEOPLE = {
    "member": _p("bob", "org-a", "tenant", "tenant_member"),
    "tenant_admin": _p("alice", "org-a", "tenant", "tenant_admin"),
    "foreign_member": _p("dave", "org-b", "tenant", "tenant_member"),
    "foreign_admin": _p("carol", "org-b", "tenant", "tenant_admin"),
    "bank": _p("banker", "bank", "bank", "partner_agent"),  # routed, offer accepted
    "bank2": _p("banker2", "bank2", "bank", "partner_agent"),  # routed, not accepted
    "bank3": _p("banker3", "bank3", "bank", "partner_agent"),  # not routed
    "desk": _p("desk", "park", "park", "desk_staff"),
    "park_admin": _p("admin", "park", "park", "park_admin"),
    # A partner agent whose organisation id is a tenant's: roles decide, not the id.
    "member_as_partner": _p("mallory", "bank", "tenant", "tenant_member"),
}
TENANTS = {"member", "tenant_admin"}
STAFF = {"desk", "park_admin"}
ROUTED = {"bank", "bank2"}

EXPECTED: dict[str, set[str]] = {
    "create": {"member", "tenant_admin", "foreign_member", "foreign_admin", "member_as_partner"},
    "read": TENANTS | ROUTED | STAFF,
    "list": {"member", "tenant_admin", "foreign_member", "foreign_admin", "member_as_partner"}
    | ROUTED
    | {"bank3"}
    | STAFF,
    "edit": TENANTS,
    "submit": TENANTS,
    "withdraw": TENANTS,
    "start_pre_review": STAFF,
    "route": STAFF,
    "turn_down": STAFF,
    "close": STAFF,
    "start_review": ROUTED,
    "request_info": ROUTED,
    "provide_info": TENANTS,
    "decline": ROUTED,
    "make_offer": ROUTED,
    "approve": ROUTED,
    "read_offer": TENANTS | {"bank"} | STAFF,
    "accept_offer": {"tenant_admin"},
    "decline_offer": {"tenant_admin"},
    "withdraw_offer": {"bank"},
    "sign_contract": {"bank"} | STAFF,
    "record_disbursement": {"bank"} | STAFF,
    "approve_disbursement": {"bank"} | STAFF,
    "record_pledge": {"bank"} | STAFF,
    "request_valuation": STAFF,
    "record_valuation": {"bank"} | STAFF,
    "read_products": set(PEOPLE),
    "manage_products": {"park_admin"},
    "reports": {"park_admin"},
    "read_profile": TENANTS,
    "edit_profile": {"tenant_admin"},
    "read_profiles": STAFF,
}
"""Who may, row by row, for an application of org-a routed to bank and bank2 whose offer from
bank was accepted, and an offer of bank's: written out by hand."""
OFFER_ROWS = {"read_offer", "accept_offer", "decline_offer", "withdraw_offer"}
HIDDEN = {"read", "read_offer"}


def test_every_action_has_a_row_and_the_test_knows_them_all():
    assert set(RIGHTS.actions) == set(EXPECTED)
    # Every transition a caller asks for has its row (the desk's and partners' with their names).
    callers = {
        "edit",
        "submit",
        "start_pre_review",
        "route",
        "turn_down",
        "close",
        "withdraw",
        "approve",
        "sign_contract",
        *(a for a in REVIEW_ACTIONS if a not in ("reconsider", "cancel")),
    }
    assert callers <= set(RIGHTS.actions)
    assert {"accept_offer", "disburse", "complete_disbursement"} <= set(ACTIONS)


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_each_row_allows_exactly_whom_it_names(action, who):
    subject = Offer() if action in OFFER_ROWS else Application()
    allowed = who in EXPECTED[action]
    assert RIGHTS.allows(PEOPLE[who], action, subject) is allowed
    if allowed:
        RIGHTS.require(PEOPLE[who], action, subject)
        return
    with pytest.raises(PermissionDenied) as refused:
        RIGHTS.require(PEOPLE[who], action, subject)
    error = refused.value
    assert error.status == 403 and error.extra["action"] == action
    assert render(error.detail, "en").startswith("Only ") and render(error.detail, "zh").startswith("只有")


@pytest.mark.parametrize("action", sorted(HIDDEN))
def test_hidden_rows_are_the_reads(action):
    assert {row.action for row in RIGHTS if row.hidden} == HIDDEN
    assert RIGHTS[action].hidden


def test_a_partner_never_reads_another_partner_s_offer():
    bank2_offer = Offer(partner_org_id="bank2")
    assert sees_offer(PEOPLE["bank2"], bank2_offer)
    assert not sees_offer(PEOPLE["bank"], bank2_offer)
    assert not sees_offer(PEOPLE["bank3"], bank2_offer)
    assert sees_offer(PEOPLE["member"], bank2_offer) and sees_offer(PEOPLE["desk"], bank2_offer)
    assert not sees_offer(PEOPLE["foreign_admin"], bank2_offer)


def test_a_partner_reads_an_application_only_while_routed_to_it():
    assert can_see(PEOPLE["bank3"], Application()) is False
    assert can_see(PEOPLE["bank3"], Application(partner_org_ids=("bank3",))) is True
    assert can_see(PEOPLE["bank"], Application(partner_org_ids=())) is False
    # A string is not a list of partners ("bank" in "bank2" must not count).
    assert can_see(PEOPLE["bank"], Application(partner_org_ids="bank2")) is False  # type: ignore[arg-type]


def test_only_the_accepted_partner_records_the_money():
    before = Application(accepted_partner_org_id=None)
    for action in ("sign_contract", "record_disbursement", "approve_disbursement", "record_pledge", "record_valuation"):
        assert not RIGHTS.allows(PEOPLE["bank"], action, before)
        assert not RIGHTS.allows(PEOPLE["bank2"], action, Application())
        assert RIGHTS.allows(PEOPLE["desk"], action, before)


def test_the_view_s_guard_refuses_by_role_before_the_body():
    guarded = RIGHTS.guard("route", lambda: PEOPLE["bank"])(lambda: "routed")
    with pytest.raises(PermissionDenied) as refused:
        guarded()
    assert render(refused.value.detail, "en") == "Only desk staff or park admin may route an application to partners."
    assert render(refused.value.detail, "zh") == "只有服务台工作人员或园区管理员可以将申请推送给合作机构。"
    assert RIGHTS.guard("route", lambda: PEOPLE["desk"])(lambda: "routed")() == "routed"


def test_a_refusal_names_the_relation_in_both_languages():
    with pytest.raises(PermissionDenied) as refused:
        RIGHTS.require(PEOPLE["bank3"], "make_offer", Application())
    assert render(refused.value.detail, "en") == "Only a partner the application is routed to may make an offer."
    assert render(refused.value.detail, "zh") == "只有申请所推送的合作机构可以提出报价。"
    assert refused.value.extra["allowed"] == ["routed_partner"]


@pytest.mark.parametrize(
    ("who", "scope", "tenant_names"),
    [
        ("member", "organisation", True),
        ("tenant_admin", "organisation", True),
        ("bank", "partner", False),
        ("desk", "all", False),
        ("park_admin", "all", False),
    ],
)
def test_the_list_s_scope_and_the_names_of_the_states(who, scope, tenant_names):
    assert list_scope(PEOPLE[who]) == scope
    assert sees_tenant_names(PEOPLE[who]) is tenant_names


# The docs ---------------------------------------------------------------------------------------

BEGIN, END = "<!-- rights:begin -->", "<!-- rights:end -->"


def test_the_docs_show_exactly_the_table():
    """docs/FINANCE.md, "Who may do what", between the markers: ``python -m
    services.finance.permissions`` prints what belongs there."""
    text = (ROOT / "docs" / "FINANCE.md").read_text()
    found = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, re.S)
    assert found, "docs/FINANCE.md lacks the rights markers"
    assert found.group(1) == RIGHTS.markdown("en")


def test_the_table_prints_in_chinese_too(capsys):
    main(["--locale", "zh"])
    printed = capsys.readouterr().out
    assert printed == RIGHTS.markdown("zh")
    assert "| `route` |" in printed and "服务台工作人员或园区管理员" in printed
