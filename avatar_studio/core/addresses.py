"""Which network addresses we connect to when a client chose the destination.

Every outbound connection to a URL a client gave us (a selfie URL, an API webhook) is checked
here, on the addresses its host resolved to, before any connection is made.
"""

import ipaddress


def is_public_address(address):
    """True for an address on the public internet; False for anything local or special."""
    ip = ipaddress.ip_address(address)
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def is_loopback_address(address):
    """True for this machine's own addresses (127.0.0.0/8, ::1, and 127/8 mapped into IPv6)."""
    ip = ipaddress.ip_address(address)
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    return ip.is_loopback
