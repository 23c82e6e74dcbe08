"""Which account owns the program at the other end of a loopback connection.

In kubeconfig mode the page acts with its user's credentials, so it must answer that
user's own programs (their browser) and nobody else's. A session cookie cannot ensure
that alone: browsers send a host's cookies to every port of it, so another account's
server on the same loopback address, once the user's browser visits it, receives the
cookie and can replay it. Linux lists every TCP socket of the network namespace, with
the uid that owns it, in ``/proc/net/tcp`` and ``/proc/net/tcp6`` (readable by all
users; it is what ``ss`` and identd read): the socket whose local address is our peer's
and whose remote address is ours is the client's, and its uid says whose it is.

Accepted: our own uid and root's (root can read the kubeconfig anyway). Where the
system has no such table (macOS, BSD), nothing can be learnt and every peer is let
through; `kron ui` says so when it starts, and docs/cli/ui.md says what that leaves open.
"""

from __future__ import annotations

import ipaddress
import os
import struct
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from aiohttp import web

from kron.ui.security import Refused

Address = tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int]
Lookup = Callable[[Address, Address], int | None]

PROC_NET: Final = Path("/proc/net")
TABLES: Final = ("tcp", "tcp6")


def address(host: str, port: int) -> Address:
    """An address as a socket reports it, IPv4-mapped IPv6 folded to IPv4."""
    ip = ipaddress.ip_address(host.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip, port


def _hex_address(text: str) -> Address:
    """``0100007F:1F90`` (IPv4) or 32 hex digits and a port (IPv6), as the kernel prints
    them: each 32-bit word of the address in the host's byte order, the port in hex."""
    host, _, port = text.partition(":")
    words = [int(host[i : i + 8], 16) for i in range(0, len(host), 8)]
    packed = b"".join(struct.pack("=I", word) for word in words)
    ip = ipaddress.ip_address(packed)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip, int(port, 16)


def sockets(table: str) -> Iterator[tuple[Address, Address, int]]:
    """(local, remote, uid) of each socket listed in the text of a /proc/net/tcp* file."""
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        try:
            yield _hex_address(fields[1]), _hex_address(fields[2]), int(fields[7])
        except ValueError:
            continue


def socket_owner(peer: Address, ours: Address, proc: Path = PROC_NET) -> int | None:
    """The uid owning the socket connected from ``peer`` to ``ours``; None when no table
    lists it. OSError when this system has no such tables."""
    tables = [proc / name for name in TABLES if (proc / name).is_file()]
    if not tables:
        raise OSError(f"no {proc}/tcp on this system")
    for path in tables:
        for local, remote, uid in sockets(path.read_text(encoding="ascii", errors="replace")):
            if local == peer and remote == ours:
                return uid
    return None


def can_tell(proc: Path = PROC_NET) -> bool:
    return any((proc / name).is_file() for name in TABLES)


class PeerCheck:
    """Refuses connections from programs of other accounts (checked once per connection)."""

    def __init__(self, lookup: Lookup = socket_owner, uids: frozenset[int] | None = None) -> None:
        self._lookup = lookup
        self.uids = uids if uids is not None else frozenset({os.geteuid(), 0})
        self._known: weakref.WeakKeyDictionary[object, int | None] = weakref.WeakKeyDictionary()

    def check(self, request: web.Request) -> None:
        transport = request.transport
        if transport is None:
            raise Refused(400, "Closed", "The connection closed.")
        try:
            uid = self._known[transport]
        except KeyError:
            uid = self._owner(transport)
            self._known[transport] = uid
        except TypeError:  # a transport without weak references: ask every time
            uid = self._owner(transport)
        if uid is None:
            raise Refused(
                403,
                "Unknown program",
                "kron ui cannot tell which account this connection comes from, so it does "
                "not answer it (it acts with your kubeconfig).",
            )
        if uid not in self.uids:
            raise Refused(
                403,
                "Another account",
                f"This connection comes from a program of another account on this machine "
                f"(uid {uid}). kron ui acts with your kubeconfig, so it answers only your "
                "own account's programs.",
            )

    def _owner(self, transport: object) -> int | None:
        get = getattr(transport, "get_extra_info", None)
        peer, ours = (get("peername"), get("sockname")) if get else (None, None)
        if not peer or not ours:
            return None
        try:
            return self._lookup(address(peer[0], peer[1]), address(ours[0], ours[1]))
        except (OSError, ValueError):
            return None
