"""Which addresses an outbound connection may go to: the public internet only, however an IPv4
address is wrapped in IPv6. Judged on the addresses themselves; nothing here connects anywhere.

A packet to an IPv6 address that carries an IPv4 one ends up at that IPv4 host (behind a NAT64
gateway, 64:ff9b::7f00:1 is the gateway's own 127.0.0.1), so the carried address decides.
"""

import pytest

from avatar_studio.api import webhooks
from avatar_studio.core.addresses import is_loopback_address, is_public_address

# Each IPv4-in-IPv6 form, as a function of the IPv4 address it carries.
FORMS = {
    "plain IPv4": lambda v4: v4,
    "IPv4-mapped ::ffff:0:0/96": lambda v4: f"::ffff:{v4}",
    "IPv4-translated ::ffff:0:0:0/96": lambda v4: f"::ffff:0:{v4}",
    "IPv4-compatible ::/96": lambda v4: f"::{v4}",
    "NAT64 well-known 64:ff9b::/96": lambda v4: f"64:ff9b::{v4}",
    "6to4 2002::/16": lambda v4: _six_to_four(v4),
    "Teredo 2001::/32, the client": lambda v4: _teredo(server="93.184.215.14", client=v4),
    "Teredo 2001::/32, the server": lambda v4: _teredo(server=v4, client="93.184.215.14"),
}

NOT_GLOBAL_IPV4 = [
    "127.0.0.1",
    "127.9.9.9",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "192.0.0.8",  # IETF protocol assignments: all of 192.0.0.0/24
    "192.0.0.170",
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "240.0.0.1",
    "255.255.255.255",
    "224.0.0.1",  # multicast
]

PUBLIC_IPV4 = ["93.184.215.14", "8.8.8.8", "1.1.1.1"]


def _six_to_four(v4):
    high, low = _halves(v4)
    return f"2002:{high:x}:{low:x}::1"


def _teredo(server, client):
    """A Teredo address: the server's IPv4 address, then the client's with every bit flipped."""
    server_high, server_low = _halves(server)
    client_high, client_low = (half ^ 0xFFFF for half in _halves(client))
    return f"2001:0:{server_high:x}:{server_low:x}::{client_high:x}:{client_low:x}"


def _halves(v4):
    a, b, c, d = (int(part) for part in v4.split("."))
    return (a << 8) | b, (c << 8) | d


@pytest.mark.parametrize("v4", NOT_GLOBAL_IPV4)
@pytest.mark.parametrize("form", FORMS)
def test_every_form_carrying_a_local_or_special_address_is_refused(form, v4):
    assert is_public_address(FORMS[form](v4)) is False


@pytest.mark.parametrize("v4", PUBLIC_IPV4)
@pytest.mark.parametrize("form", FORMS)
def test_every_form_carrying_a_public_address_is_judged_by_it(form, v4):
    assert is_public_address(FORMS[form](v4)) is True


def test_the_forms_are_the_ones_named():
    """The table's builders make what they say (ipaddress reads the two it knows)."""
    import ipaddress

    assert str(ipaddress.ip_address(_six_to_four("127.0.0.1")).sixtofour) == "127.0.0.1"
    server, client = ipaddress.ip_address(_teredo("10.0.0.1", "127.0.0.1")).teredo
    assert (str(server), str(client)) == ("10.0.0.1", "127.0.0.1")
    assert _teredo("93.184.215.14", "127.0.0.1") == "2001:0:5db8:d70e::80ff:fffe"


@pytest.mark.parametrize(
    "address",
    [
        "::7f00:1",  # the review's examples, written as they were reported
        "64:ff9b::7f00:1",
        "2002:7f00:1::",
        "::ffff:0:7f00:1",
        "192.0.0.8",
        # The local-use NAT64 prefix names a translator inside an operator's own network, and
        # where it carries the IPv4 address depends on that operator's prefix length: refused
        # whatever it seems to carry.
        "64:ff9b:1::7f00:1",
        "64:ff9b:1::5db8:d70e",
        "64:ff9b:1:5db8:d7:e00::",
    ],
)
def test_the_reported_addresses_are_refused(address):
    assert is_public_address(address) is False


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("2606:4700::1111", True),
        ("2a00:1450:4001:80b::200e", True),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fe80::1%eth0", False),
        ("fd00::1", False),
        ("fec0::1", False),  # site-local, deprecated
        ("2001:db8::1", False),  # documentation
        ("3fff::1", False),  # documentation
        ("100::1", False),  # discard-only
        ("5f00::1", False),  # segment routing
        ("ff0e::1", False),  # multicast, global scope
        ("not an address", False),
    ],
)
def test_plain_ipv6(address, public):
    assert is_public_address(address) is public


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.9.9.9", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # a dual-stack socket sends it to 127.0.0.1 on this machine
        ("64:ff9b::7f00:1", False),  # the NAT64 gateway's loopback, not ours
        ("::7f00:1", False),
        ("2002:7f00:1::", False),
        ("10.0.0.1", False),
        ("not an address", False),
    ],
)
def test_loopback_is_this_machine_only(address, loopback):
    assert is_loopback_address(address) is loopback


@pytest.mark.parametrize("address", ["64:ff9b::7f00:1", "::7f00:1", "::ffff:0:7f00:1"])
def test_a_webhook_to_loopback_in_disguise_is_refused_even_where_loopback_is_allowed(address):
    """Local development allows webhooks to loopback; a wrapped 127.0.0.1 is not loopback."""
    policy = webhooks.WebhookPolicy(allow_loopback=True, resolve=lambda host, port: [address])

    with pytest.raises(webhooks.WebhookURLRefused, match="private or local network address"):
        webhooks.check_webhook_url("https://hooks.example/avatar", policy)
    assert policy.connected == []
