"""Partner webhook endpoints: which URLs may receive deliveries, which event types an endpoint may
subscribe to. Pure: the resolver (``host -> addresses``) is a parameter, so the same check runs at
registration and again before every delivery (a host's DNS answer can change in between).

Refusals are :class:`~shared.errors.RuleViolation` (422) with codes:

- ``rule/webhook-url-invalid``: not a URL with a host, longer than :data:`MAX_URL_LENGTH`, or with
  user info (``user:pass@``) or a fragment (``#...``);
- ``rule/webhook-url-scheme``: the scheme is not ``https``;
- ``rule/webhook-url-unresolvable``: the host resolves to no address at all;
- ``rule/webhook-url-private``: the host is, or resolves to, an address that is not public (one
  such answer among many refuses, since the sender would use whichever it picks);
- ``rule/webhook-event-unknown``: a subscription pattern matches no known event type.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence
from urllib.parse import urlsplit

from shared.errors import RuleViolation
from shared.i18n import _

MAX_URL_LENGTH = 2000
"""What every browser and proxy accepts; a longer URL is not one a partner means."""

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str], Sequence[str]]
"""``host -> addresses`` (text form), e.g. a wrapper over :func:`socket.getaddrinfo`."""

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598): not the internet


def is_public(address: Address) -> bool:
    """Whether a delivery may go to ``address``: not loopback, private, link-local, multicast,
    reserved, unspecified or shared (100.64/10); an IPv4-mapped (``::ffff:a.b.c.d``) or 6to4 /
    Teredo IPv6 address is judged by the IPv4 address it carries."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # the socket talks IPv4 to it: only that address counts
            return is_public(address.ipv4_mapped)
        inner = address.sixtofour or (address.teredo[1] if address.teredo else None)
        if inner is not None and not is_public(inner):
            return False
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return False
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _host(url: str) -> str:
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise RuleViolation(
            _("A webhook URL is a URL of at most {limit} characters.", limit=MAX_URL_LENGTH),
            code="rule/webhook-url-invalid",
        )
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number or out of range
    except ValueError:
        raise RuleViolation(_("This webhook URL cannot be read."), code="rule/webhook-url-invalid") from None
    del port
    if parts.scheme.lower() != "https":
        raise RuleViolation(_("A webhook URL must start with https://."), code="rule/webhook-url-scheme")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise RuleViolation(_("A webhook URL may not carry a user name or password."), code="rule/webhook-url-invalid")
    if parts.fragment or "#" in url:
        raise RuleViolation(_("A webhook URL may not have a fragment (#...)."), code="rule/webhook-url-invalid")
    if not parts.hostname:
        raise RuleViolation(_("A webhook URL must name a host."), code="rule/webhook-url-invalid")
    return parts.hostname


def check_url(url: str, resolve: Resolver, *, allow_private: bool = False) -> str:
    """``url`` if a delivery may be sent to it, else :class:`RuleViolation` (codes above). A host
    written as an address is judged as it is; a name is resolved with ``resolve`` and EVERY answer
    must be public. ``allow_private`` (a setting, for tests and closed installations) skips the
    address check but never the URL's form."""
    host = _host(url)
    if allow_private:
        return url
    try:
        addresses: list[Address] = [ipaddress.ip_address(host)]
    except ValueError:
        answers = list(resolve(host))
        if not answers:
            raise RuleViolation(
                _("The host {host} of this webhook URL has no address.", host=host),
                code="rule/webhook-url-unresolvable",
            ) from None
        addresses = [ipaddress.ip_address(answer.split("%", 1)[0]) for answer in answers]
    for address in addresses:
        if not is_public(address):
            raise RuleViolation(
                _("The host {host} of this webhook URL is not on the public internet.", host=host),
                code="rule/webhook-url-private",
            )
    return url


def matches(pattern: str, event_type: str) -> bool:
    """Whether ``event_type`` is subscribed by ``pattern``: equal, or ``pattern`` ends with ``.*``
    and ``event_type`` starts with what comes before it plus a dot (``consulting.case.*`` holds
    ``consulting.case.opened`` and ``consulting.case.quote.sent``), or the pattern is ``*``."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def check_event_types(patterns: Iterable[str], known: Iterable[str]) -> list[str]:
    """The subscription ``patterns`` without duplicates, in their order, if each matches at least
    one of the ``known`` event types; else ``rule/webhook-event-unknown`` naming the first that
    matches none (a typo would otherwise subscribe to nothing, silently)."""
    known = list(known)
    chosen: list[str] = []
    for pattern in patterns:
        if not any(matches(pattern, event_type) for event_type in known):
            raise RuleViolation(
                _("No event type is called {pattern}.", pattern=pattern),
                code="rule/webhook-event-unknown",
                pattern=pattern,
            )
        if pattern not in chosen:
            chosen.append(pattern)
    return chosen
