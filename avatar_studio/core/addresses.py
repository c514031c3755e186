"""Which network addresses we connect to when a client chose the destination.

Every outbound connection to a URL a client gave us (a selfie URL, an API webhook) is checked
here, on the addresses its host resolved to, before any connection is made; the caller then
connects to the address it checked.

An IPv6 address can carry an IPv4 one, and a packet to it ends up at that IPv4 host: behind a
NAT64 gateway, 64:ff9b::7f00:1 is the gateway's own 127.0.0.1, and 6to4 or Teredo relays unwrap
theirs the same way. So such an address is judged by the IPv4 address it carries (by both, for
Teredo's server and client), never by its IPv6 prefix, which ``ipaddress`` may well call global.
"""

import ipaddress

_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT (RFC 2765)
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated (RFC 4291); holds :: and ::1
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052

# Not globally reachable, but missing from the ``ipaddress`` tables of some Python releases:
# listed here so the answer does not depend on the interpreter's patch level.
_NOT_GLOBAL = tuple(
    ipaddress.ip_network(network)
    for network in (
        "192.0.0.0/24",  # IETF protocol assignments (RFC 6890)
        # NAT64's local-use prefix (RFC 8215) names a translator inside an operator's own
        # network, and where the IPv4 address sits in it depends on that operator's prefix
        # length, so it cannot be unwrapped reliably: refused whatever it seems to carry.
        "64:ff9b:1::/48",
        "100:0:0:1::/64",  # dummy prefix (RFC 9780)
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # segment routing SIDs (RFC 9602)
        "fec0::/10",  # site-local, deprecated (RFC 3879)
    )
)


def is_public_address(address):
    """True for an address on the public internet; False for anything local, special, unreadable
    or carrying such an IPv4 address inside IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return all(_is_global(destination) for destination in _destinations(ip))


def is_loopback_address(address):
    """True for this machine's own addresses: 127.0.0.0/8, ::1, and 127/8 mapped into IPv6 (a
    dual-stack socket sends those to 127.0.0.1 here). Other wrapped forms of 127.0.0.1 leave the
    machine, to a gateway or relay, so they are not loopback."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def embedded_ipv4(ip):
    """The IPv4 addresses an IPv6 address carries (a tuple, empty if it carries none)."""
    if ip.version == 4:
        return ()
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip.teredo is not None:
        return ip.teredo  # (server, client); the client's bits are un-flipped already
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip in _IPV4_TRANSLATED or ip in _IPV4_COMPATIBLE or ip in _NAT64_WELL_KNOWN:
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    return ()


def _destinations(ip):
    """The addresses a packet to ``ip`` ends up at: the IPv4 ones it carries, else ``ip``."""
    return embedded_ipv4(ip) or (ip,)


def _is_global(ip):
    # ``in`` is simply False across IPv4 and IPv6.
    return ip.is_global and not ip.is_multicast and not any(ip in net for net in _NOT_GLOBAL)
