"""Who may do what in notify: one table (:data:`RIGHTS`); the views' checks, the refusal texts
and the "Who may do what" section of docs/NOTIFY.md come from it. Pure: no Flask, no session.

A feed, preferences and a timeline are the caller's own (their subject, their organisation);
a partner's webhook endpoints are its organisation's. ``python -m services.notify.permissions``
prints the table as the docs show it.
"""

from __future__ import annotations

import argparse

from shared.i18n import _
from shared.rights import DESK_STAFF, PARK_ADMIN, PARTNER, SIGNED_IN, TENANT_ADMIN, TENANT_MEMBER, Right, Rights

_STAFF = (DESK_STAFF, PARK_ADMIN)

RIGHTS = Rights(
    Right("read_feed", _("read their notifications"), (SIGNED_IN,)),
    Right("set_preferences", _("choose which notices they receive"), (SIGNED_IN,)),
    Right(
        "read_timeline",
        _("read an organisation's timeline"),
        (TENANT_MEMBER, TENANT_ADMIN, *_STAFF),
        note=_("a tenant: their own organisation's; staff: any organisation's"),
    ),
    Right("manage_webhooks", _("manage webhook endpoints"), (PARTNER,), note=_("their own organisation's")),
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print notify's table of rights as docs/NOTIFY.md shows it.")
    parser.add_argument("--locale", default="en", choices=("en", "zh"))
    print(RIGHTS.markdown(parser.parse_args(argv).locale), end="")


if __name__ == "__main__":
    main()
