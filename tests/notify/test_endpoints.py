"""Webhook endpoint URLs and event subscriptions (pure rules, resolver injected)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.notify.rules.endpoints import MAX_URL_LENGTH, check_event_types, check_url, is_public, matches
from shared.errors import RuleViolation


def resolver(table: dict[str, list[str]]) -> Callable[[str], list[str]]:
    def resolve(host: str) -> list[str]:
        return table.get(host, [])

    return resolve


PUBLIC = resolver({"hooks.partner.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]})


def code(url: str, resolve: Callable[[str], list[str]] = PUBLIC, **options: Any) -> str:
    with pytest.raises(RuleViolation) as caught:
        check_url(url, resolve, **options)
    return caught.value.code


def test_a_public_https_url_is_accepted() -> None:
    assert check_url("https://hooks.partner.example/in?x=1", PUBLIC) == "https://hooks.partner.example/in?x=1"
    assert check_url("https://93.184.216.34:8443/in", PUBLIC) == "https://93.184.216.34:8443/in"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://hooks.partner.example/in", "rule/webhook-url-scheme"),
        ("ftp://hooks.partner.example/in", "rule/webhook-url-scheme"),
        ("hooks.partner.example/in", "rule/webhook-url-scheme"),
        ("https://user:pw@hooks.partner.example/in", "rule/webhook-url-invalid"),
        ("https://user@hooks.partner.example/in", "rule/webhook-url-invalid"),
        ("https://hooks.partner.example/in#top", "rule/webhook-url-invalid"),
        ("https://hooks.partner.example/in#", "rule/webhook-url-invalid"),
        ("https:///in", "rule/webhook-url-invalid"),
        ("https://hooks.partner.example:99999/in", "rule/webhook-url-invalid"),
        ("https://hooks.partner.example/" + "a" * MAX_URL_LENGTH, "rule/webhook-url-invalid"),
        ("", "rule/webhook-url-invalid"),
        ("https://nowhere.example/in", "rule/webhook-url-unresolvable"),
    ],
)
def test_malformed_urls_are_refused_with_their_code(url: str, expected: str) -> None:
    assert code(url) == expected


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.254",
        "224.0.0.1",
        "240.0.0.1",
        "0.0.0.0",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "2002:7f00:1::1",
    ],
)
def test_hosts_that_are_or_resolve_to_non_public_addresses_are_refused(address: str) -> None:
    literal = f"[{address}]" if ":" in address else address
    assert code(f"https://{literal}/in") == "rule/webhook-url-private"
    assert code("https://sneaky.example/in", resolver({"sneaky.example": [address]})) == "rule/webhook-url-private"


def test_one_private_answer_among_public_ones_refuses() -> None:
    resolve = resolver({"mixed.example": ["93.184.216.34", "10.0.0.5"]})
    assert code("https://mixed.example/in", resolve) == "rule/webhook-url-private"


def test_the_check_at_delivery_time_sees_a_changed_dns_answer() -> None:
    table = {"rebind.example": ["93.184.216.34"]}
    resolve = resolver(table)
    check_url("https://rebind.example/in", resolve)  # at registration
    table["rebind.example"] = ["127.0.0.1"]
    assert code("https://rebind.example/in", resolve) == "rule/webhook-url-private"


def test_allow_private_lets_private_hosts_through_but_not_bad_urls() -> None:
    assert check_url("https://127.0.0.1:9000/in", PUBLIC, allow_private=True) == "https://127.0.0.1:9000/in"
    assert code("http://127.0.0.1:9000/in", allow_private=True) == "rule/webhook-url-scheme"


def test_an_ipv4_mapped_public_address_is_public() -> None:
    assert is_public(ipaddress.ip_address("::ffff:93.184.216.34"))


@given(st.ip_addresses())
def test_a_public_address_is_global_and_none_of_the_refused_kinds(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> None:
    if address.version == 6 and address.ipv4_mapped is not None:
        assert is_public(address) == is_public(address.ipv4_mapped)
        return
    if is_public(address):
        assert address.is_global
        assert not (address.is_loopback or address.is_private or address.is_link_local)
        assert not (address.is_multicast or address.is_reserved or address.is_unspecified)
        assert address not in ipaddress.ip_network("100.64.0.0/10" if address.version == 4 else "::/128")


@given(st.ip_addresses(v=4))
def test_the_classifier_refuses_exactly_the_non_global_ipv4_kinds(address: ipaddress.IPv4Address) -> None:
    refused = (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address in ipaddress.ip_network("100.64.0.0/10")
    )
    assert is_public(address) is not refused
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert is_public(mapped) is not refused


KNOWN = ["consulting.case.opened", "consulting.case.closed", "finance.application.submitted"]


def test_patterns_match_types_below_them() -> None:
    assert matches("consulting.case.*", "consulting.case.opened")
    assert not matches("consulting.case.*", "consulting.cases.opened")
    assert not matches("consulting.case.*", "consulting.case")
    assert matches("*", "finance.application.submitted")
    assert matches("consulting.case.opened", "consulting.case.opened")


def test_subscriptions_must_name_known_types() -> None:
    assert check_event_types(["consulting.case.*", "finance.*", "consulting.case.*"], KNOWN) == [
        "consulting.case.*",
        "finance.*",
    ]
    with pytest.raises(RuleViolation) as caught:
        check_event_types(["consulting.case.opend"], KNOWN)
    assert caught.value.code == "rule/webhook-event-unknown"
    assert caught.value.extra["pattern"] == "consulting.case.opend"
