"""Who a request comes from, for the limits that count per client address.

The address is the connection's peer, unless that peer is a trusted proxy
(TRUSTED_PROXIES): then it is the nearest address in X-Forwarded-For that is not one
of ours. Without that rule anybody could pick their own address, and with it an
ingress in front of the site does not make every visitor one client.

An IPv6 client counts as its /64: one subscriber is given a /64 (RFC 6177), and
could otherwise take a fresh address, and a fresh budget, for every request.
"""

import ipaddress

from django.conf import settings

IPV6_CLIENT_PREFIX = 64
MAX_ODD_ADDRESS = 100


def client_address(request) -> str:
    peer = request.META.get("REMOTE_ADDR", "")
    if not _trusted(peer):
        return peer
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop):
            return hop
    return peer


def client_key(request) -> str:
    """The client's address as the limits count it."""
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:MAX_ODD_ADDRESS]  # what a trusted proxy said, however odd
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)
