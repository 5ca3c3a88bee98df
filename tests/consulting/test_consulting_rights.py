"""Consulting's table of rights (services/consulting/permissions.py), with plain principals (no
HTTP yet: there are no endpoints): every row allows exactly whom it names and refuses everybody
else, naming who may in English and Chinese; message visibilities; the list's scopes; and
docs/CONSULTING.md shows exactly the table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.consulting.permissions import (
    MESSAGE_RIGHTS,
    MESSAGE_VISIBILITIES,
    RIGHTS,
    can_see,
    list_scope,
    main,
    may_read,
    may_write,
    sees_tenant_names,
    visible_messages,
)
from shared.errors import PermissionDenied
from shared.i18n import render
from shared.principal import Principal

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Case:
    """What the rows read of a case (and of a meeting on it: who asked for it, from where)."""

    org_id: str = "org-a"
    submitted_by: str = "bob"
    firm_org_id: str | None = "firm-law"
    requested_by: str = "bob"
    requested_by_org_id: str = "org-a"


def _p(subject: str, org_id: str, org_kind: str, *roles: str) -> Principal:
    return Principal(subject, org_id, org_kind, frozenset(roles))


PEOPLE = {
    "submitter": _p("bob", "org-a", "tenant", "tenant_member"),  # submitted the case
    "colleague": _p("erin", "org-a", "tenant", "tenant_member"),  # same organisation
    "tenant_admin": _p("alice", "org-a", "tenant", "tenant_admin"),  # of the case's organisation
    "foreign_admin": _p("carol", "org-b", "tenant", "tenant_admin"),
    "foreign_member": _p("dave", "org-b", "tenant", "tenant_member"),
    "firm": _p("lawyer", "firm-law", "firm", "partner_agent"),  # assigned
    "other_firm": _p("ipagent", "firm-ip", "firm", "partner_agent"),
    "desk": _p("desk", "park", "park", "desk_staff"),
    "park_admin": _p("admin", "park", "park", "park_admin"),
}
# Someone who submitted a case and has since become a partner agent of another organisation is
# no longer its submitter: the relation holds only within the case's organisation.
PEOPLE["moved_away"] = _p("bob", "org-b", "tenant", "tenant_member")

TENANT_SIDE = {"submitter", "tenant_admin"}
INVOLVED = TENANT_SIDE | {"firm", "desk", "park_admin"}
STAFF = {"desk", "park_admin"}
TENANTS = {"submitter", "colleague", "tenant_admin", "foreign_admin", "foreign_member", "moved_away"}
EVERYBODY = set(PEOPLE)

EXPECTED: dict[str, set[str]] = {
    "submit": TENANTS,
    "read": INVOLVED,
    "list": EVERYBODY,
    "triage": STAFF,
    "assign": STAFF,
    "accept": {"firm"},
    "decline": {"firm"},
    "start": {"firm"},
    "wait": {"firm"} | STAFF,
    "resume": INVOLVED,
    "propose_solution": {"firm"},
    "record_valuation": {"firm"},
    "accept_solution": TENANT_SIDE,
    "reject_solution": TENANT_SIDE,
    "cancel": TENANT_SIDE | STAFF,
    "rate": TENANT_SIDE,
    "post_tenant_message": INVOLVED,
    "read_tenant_messages": INVOLVED,
    "post_desk_note": STAFF,
    "read_desk_notes": STAFF,
    "post_firm_note": {"firm"},
    "read_firm_notes": {"firm"} | STAFF,
    "download_attachment": INVOLVED,
    "propose_quote": {"firm"},
    "accept_quote": TENANT_SIDE,
    "reject_quote": TENANT_SIDE,
    "read_catalogue": EVERYBODY,
    "manage_catalogue": {"park_admin"},
    "read_firms": {"firm"} | STAFF,  # the firm acted on is firm-law, the case's firm_org_id
    "declare_categories": {"firm", "park_admin"},
    "read_calendar": EVERYBODY,
    "manage_calendar": {"park_admin"},
    "reports": {"park_admin"},
    "request_meeting": TENANT_SIDE | {"firm"},
    "cancel_meeting": {"submitter"} | {"tenant_admin"} | STAFF,  # bob asked for it, from org-a
    "retry_meeting": STAFF,
}
"""Who may do each action to the case above (org-a's, submitted by bob, assigned to firm-law),
and to a meeting on it bob asked for from org-a."""


def test_the_table_has_every_action_of_the_issue():
    assert set(RIGHTS.actions) == set(EXPECTED)


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_every_row_allows_whom_it_names_and_refuses_the_others(action, who):
    actor, case = PEOPLE[who], Case()
    allowed = who in EXPECTED[action]
    assert RIGHTS.allows(actor, action, case) is allowed
    if allowed:
        RIGHTS.require(actor, action, case)
        assert RIGHTS[action].may_try(actor)
        return
    with pytest.raises(PermissionDenied) as refused:
        RIGHTS.require(actor, action, case)
    assert refused.value.extra["action"] == action
    assert refused.value.extra["allowed"] == [w.code for w in RIGHTS[action].who]
    assert render(refused.value.detail, "en").startswith("Only ")
    assert render(refused.value.detail, "zh").startswith("只有")


def test_a_case_with_no_firm_has_no_firm_to_act():
    unassigned = Case(firm_org_id=None)
    for who in ("firm", "other_firm"):
        assert not RIGHTS.allows(PEOPLE[who], "read", unassigned)
        assert not RIGHTS.allows(PEOPLE[who], "accept", unassigned)
    assert RIGHTS.allows(PEOPLE["other_firm"], "accept", Case(firm_org_id="firm-ip"))
    assert not can_see(PEOPLE["firm"], Case(firm_org_id="firm-ip"))  # reassigned away from it


def test_a_relation_never_holds_without_the_case():
    assert not RIGHTS.allows(PEOPLE["firm"], "accept")
    assert not RIGHTS.allows(PEOPLE["submitter"], "accept_solution")
    assert RIGHTS.allows(PEOPLE["desk"], "triage")


def test_roles_checked_before_the_case_is_read():
    """A view's guard: a partner agent may try to accept (then the case decides), a tenant not."""
    assert RIGHTS["accept"].may_try(PEOPLE["other_firm"])
    assert not RIGHTS["accept"].may_try(PEOPLE["tenant_admin"])
    assert not RIGHTS["submit"].may_try(PEOPLE["firm"])
    assert not RIGHTS["submit"].may_try(PEOPLE["desk"])
    assert RIGHTS["accept_solution"].may_try(PEOPLE["colleague"])  # then refused: not the submitter


def test_refusals_name_who_may_in_both_languages():
    refusal = RIGHTS.refusal("accept_solution")
    assert render(refusal, "en") == "Only the submitter or a tenant admin of the organisation may accept a solution."
    assert render(refusal, "zh") == "只有提交人或该机构的入驻企业管理员可以接受解决方案。"
    assert render(RIGHTS.refusal("post_desk_note"), "en") == (
        "Only desk staff or park admin may write a note internal to the desk."
    )


def test_the_hidden_rows_are_told_not_found():
    assert {r.action for r in RIGHTS if r.hidden} == {"read", "download_attachment"}


# Messages ---------------------------------------------------------------------------------------


def test_each_visibility_has_a_row_to_write_and_one_to_read():
    assert set(MESSAGE_RIGHTS) == set(MESSAGE_VISIBILITIES)
    assert {a for pair in MESSAGE_RIGHTS.values() for a in pair} <= set(RIGHTS.actions)


@pytest.mark.parametrize(
    ("who", "reads", "writes"),
    [
        ("submitter", ("tenant",), ("tenant",)),
        ("tenant_admin", ("tenant",), ("tenant",)),
        ("colleague", (), ()),
        ("firm", ("tenant", "firm"), ("tenant", "firm")),
        ("other_firm", (), ()),
        ("desk", ("tenant", "desk", "firm"), ("tenant", "desk")),
        ("park_admin", ("tenant", "desk", "firm"), ("tenant", "desk")),
        ("foreign_admin", (), ()),
    ],
)
def test_who_reads_and_writes_each_visibility(who, reads, writes):
    actor, case = PEOPLE[who], Case()
    assert visible_messages(actor, case) == reads
    assert tuple(v for v in MESSAGE_VISIBILITIES if may_write(actor, case, v)) == writes
    assert all(may_read(actor, case, v) for v in reads)


def test_a_firm_never_reads_the_desk_s_notes_nor_a_tenant_the_firm_s():
    assert not may_read(PEOPLE["firm"], Case(), "desk")
    assert not may_read(PEOPLE["submitter"], Case(), "firm")
    assert not may_read(PEOPLE["tenant_admin"], Case(), "desk")


# Rules that depend on who acts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "scope", "tenant_names"),
    [
        ("submitter", "own", True),
        ("tenant_admin", "organisation", True),
        ("firm", "firm", False),
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
    """docs/CONSULTING.md, "Who may do what", between the markers: ``python -m
    services.consulting.permissions`` prints what belongs there."""
    text = (ROOT / "docs" / "CONSULTING.md").read_text()
    found = re.search(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), text, re.S)
    assert found, "docs/CONSULTING.md lacks the rights markers"
    assert found.group(1) == RIGHTS.markdown("en")


def test_the_table_prints_in_chinese_too(capsys):
    main(["--locale", "zh"])
    printed = capsys.readouterr().out
    assert printed == RIGHTS.markdown("zh")
    assert "| `triage` |" in printed and "服务台工作人员或园区管理员" in printed
