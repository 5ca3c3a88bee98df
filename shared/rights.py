"""Who may do what, declared once per service as a table of rights.

A service lists its actions as :class:`Right` rows: the action's code, its label (what it is, as
it reads after "may": ``_("approve a reservation")``) and who may do it, each a :class:`Who` —
a role (desk staff, park admin) or a relation to the thing acted on (the organiser, a tenant
admin of the organisation, a member of the organisation). From the same row come:

- the check: :meth:`Rights.allows` / :meth:`Rights.require` (raising
  :class:`shared.errors.PermissionDenied`) for handlers and queries, which know the thing acted
  on; :meth:`Rights.guard` for views, which check the roles before the body is read;
- the refusal a caller reads, in their language: "Only desk staff or park admin may approve a
  reservation." / "只有服务台工作人员或园区管理员可以审批预订。", composed of the row's own labels,
  so it names exactly who may;
- the Markdown table the service's docs show (:meth:`Rights.markdown`).

So behaviour, refusal texts and docs cannot disagree. Pure: no Flask, no session (a service's
``permissions.py`` declares its table; its views pass ``current_principal`` to :meth:`Rights.guard`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from shared.errors import PermissionDenied
from shared.i18n import DEFAULT_LOCALE, Listing, Message, Text, _, render
from shared.principal import Principal

__all__ = [
    "DESK_STAFF",
    "MEMBER",
    "PARK_ADMIN",
    "PARTNER",
    "SIGNED_IN",
    "TENANT_ADMIN",
    "TENANT_ADMIN_OF_ORGANISATION",
    "TENANT_MEMBER",
    "Right",
    "Rights",
    "Who",
    "alternatives",
    "organisation_of",
    "person",
    "role",
]

F = TypeVar("F", bound=Callable[..., Any])
Relation = Callable[[Principal, Any], bool]


@dataclass(frozen=True)
class Who:
    """Somebody who may do an action: a caller with one of ``roles`` (any signed-in caller when
    empty) and, when ``relation`` is given, that relation to the thing acted on.

    ``label`` names them as they read inside a sentence ("desk staff", "the organiser").
    """

    code: str
    label: Message
    roles: frozenset[str] = frozenset()
    relation: Relation | None = field(default=None, compare=False)

    def may_be(self, actor: Principal) -> bool:
        """Whether ``actor`` could be this one, before the thing acted on is known (its roles)."""
        return not self.roles or actor.has_any(self.roles)

    def admits(self, actor: Principal, subject: object = None) -> bool:
        """Whether ``actor`` is this one for ``subject``; a relation never holds without a subject."""
        if not self.may_be(actor):
            return False
        if self.relation is None:
            return True
        return subject is not None and self.relation(actor, subject)


def role(code: str, label: Message) -> Who:
    """Anybody with the role ``code``."""
    return Who(code, label, frozenset({code}))


def organisation_of(subject: object) -> str | None:
    """The organisation a subject belongs to: the subject itself when it is an organisation id,
    else its ``org_id``."""
    if isinstance(subject, str):
        return subject
    org_id = getattr(subject, "org_id", None)
    return org_id if isinstance(org_id, str) else None


def _same_organisation(actor: Principal, subject: object) -> bool:
    return bool(actor.org_id) and actor.org_id == organisation_of(subject)


def person(code: str, label: Message, attribute: str, *, roles: Iterable[str]) -> Who:
    """The person the subject's ``attribute`` names (a subject id such as ``booked_by``), while
    they belong to the subject's organisation and hold one of ``roles``: those with which one can
    become that person (for the organiser of a booking, the roles that book). So a view's guard
    refuses anybody else (a partner, say) before the thing is read, with the row's refusal,
    rather than letting them on to a "not found"."""

    def is_them(actor: Principal, subject: object) -> bool:
        return getattr(subject, attribute, None) == actor.subject and _same_organisation(actor, subject)

    return Who(code, label, frozenset(roles), is_them)


SIGNED_IN = Who("signed_in", _("anyone signed in"))
TENANT_MEMBER = role("tenant_member", _("a tenant member"))
TENANT_ADMIN = role("tenant_admin", _("a tenant admin"))
DESK_STAFF = role("desk_staff", _("desk staff"))
PARK_ADMIN = role("park_admin", _("park admin"))
PARTNER = role("partner_agent", _("a partner agent"))
MEMBER = Who("member", _("a member of the organisation"), frozenset(), _same_organisation)
"""Anybody of the organisation the subject belongs to (an organisation id, or a row's ``org_id``)."""
TENANT_ADMIN_OF_ORGANISATION = Who(
    "tenant_admin_of_organisation",
    _("a tenant admin of the organisation"),
    frozenset({"tenant_admin"}),
    _same_organisation,
)


def alternatives(items: tuple[Text, ...]) -> Text:
    """``items`` as the choices a sentence offers: "desk staff or park admin", "the organiser,
    a tenant admin of the organisation, desk staff or park admin" ("…、服务台工作人员或园区管理员")."""
    if len(items) == 1:
        return items[0]
    return _("{first} or {last}", first=Listing(items[:-1]), last=items[-1])


@dataclass(frozen=True)
class Right:
    """One row: ``action`` (a code), what it is (``label``, after "may"), who may do it.

    ``hidden``: a caller who may not is told the thing does not exist (404), never that it is
    forbidden. ``note``: what the docs add (a scope that differs by who asks, say)."""

    action: str
    label: Message
    who: tuple[Who, ...]
    hidden: bool = False
    note: Message | None = None

    def __post_init__(self) -> None:
        if not self.who:
            raise ValueError(f"right {self.action!r} names nobody")

    @property
    def anyone(self) -> bool:
        """Every signed-in caller may."""
        return any(w.code == SIGNED_IN.code for w in self.who)

    @property
    def roles(self) -> tuple[str, ...]:
        """The roles one of which a caller needs (empty: none needed), in the row's order."""
        if any(not w.roles for w in self.who):
            return ()
        return tuple(dict.fromkeys(r for w in self.who for r in sorted(w.roles)))

    def may_try(self, actor: Principal) -> bool:
        """Whether ``actor`` could be allowed, judged before the thing acted on is read: one of
        :attr:`roles` (the same as asking each :class:`Who`, in one look at the caller's roles)."""
        roles = self.roles
        return not roles or actor.has_any(roles)

    def allows(self, actor: Principal, subject: object = None) -> bool:
        return any(w.admits(actor, subject) for w in self.who)

    @property
    def who_label(self) -> Text:
        return alternatives(tuple(w.label for w in self.who))

    @property
    def refusal(self) -> Message:
        """The text of a refusal, naming exactly who may."""
        return _("Only {who} may {action}.", who=self.who_label, action=self.label)


class Rights:
    """A service's table of rights, one :class:`Right` per action."""

    def __init__(self, *rows: Right) -> None:
        self._rows: dict[str, Right] = {}
        for row in rows:
            if row.action in self._rows:
                raise ValueError(f"right {row.action!r} is declared twice")
            self._rows[row.action] = row

    def __getitem__(self, action: str) -> Right:
        return self._rows[action]

    def __iter__(self) -> Iterator[Right]:
        return iter(self._rows.values())

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def actions(self) -> tuple[str, ...]:
        return tuple(self._rows)

    def allows(self, actor: Principal, action: str, subject: object = None) -> bool:
        """Whether ``actor`` may do ``action`` (on ``subject``, for the rows that name relations)."""
        return self[action].allows(actor, subject)

    def require(self, actor: Principal, action: str, subject: object = None) -> None:
        """Raise :class:`PermissionDenied` with the row's refusal unless ``actor`` may. A hidden
        row's caller should be told "not found" instead: check with :meth:`allows` there."""
        row = self[action]
        if not row.allows(actor, subject):
            raise self.refused(row)

    def refusal(self, action: str) -> Message:
        return self[action].refusal

    @staticmethod
    def refused(row: Right) -> PermissionDenied:
        return PermissionDenied(row.refusal, action=row.action, allowed=[w.code for w in row.who])

    def guard(self, action: str, caller: Callable[[], Principal]) -> Callable[[F], F]:
        """Decorator for a view: ``caller()`` (which raises the 401 when nobody is signed in) must
        have a role that could do ``action``, or the row's refusal is a 403 — before the body is
        read. The outermost decorator of a view, as the kernel's ``requires`` is; relations are
        the handler's check, once it has read the thing acted on."""
        row = self[action]

        def decorate(view: F) -> F:
            @wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if not row.may_try(caller()):
                    raise self.refused(row)
                return view(*args, **kwargs)

            return wrapper  # type: ignore[return-value]

        return decorate

    def markdown(self, locale: str = DEFAULT_LOCALE) -> str:
        """The table as Markdown, in ``locale``: action, what it is, who may, and a note."""
        heads = (_("action"), _("what"), _("who may"), _("note"))
        lines = [
            "| " + " | ".join(render(h, locale) for h in heads) + " |",
            "| --- | --- | --- | --- |",
        ]
        for row in self:
            notes: list[Text] = []
            if row.note is not None:
                notes.append(row.note)
            if row.hidden:
                notes.append(_("anyone else is told it does not exist (404)"))
            cells = (
                f"`{row.action}`",
                render(row.label, locale),
                render(row.who_label, locale),
                "; ".join(render(n, locale) for n in notes),
            )
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        return "\n".join(lines) + "\n"
