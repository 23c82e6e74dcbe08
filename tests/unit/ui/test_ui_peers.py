"""Which account owns the other end of a loopback connection (kron.ui.peers), read from
the kernel's socket tables: parsed from their text, and asked about real connections."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kron.ui.peers import address, can_tell, socket_owner, sockets

HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid"


def row(number: int, local: str, remote: str, uid: int) -> str:
    """One line of /proc/net/tcp*: the addresses as the kernel prints them."""
    rest = "01 00000000:00000000 00:00000000 00000000"
    return f"{number:4d}: {local} {remote} {rest} {uid:5d}        0 {number + 7} 1 0 20 4 30 10 -1"


# As a little-endian kernel prints them (each 32-bit word of an address in host order).
TCP = "\n".join(
    [
        HEADER,
        row(0, "0100007F:1F90", "00000000:0000", 1000),  # 127.0.0.1:8080 listening
        row(1, "2109047F:9E69", "0100007F:1F90", 4242),  # 127.4.9.33:40553 -> 127.0.0.1:8080
        "   2: garbage",
    ]
)
V6_LOOPBACK = "00000000000000000000000001000000"  # ::1
V6_MAPPED = "0000000000000000FFFF00000100007F"  # ::ffff:127.0.0.1
TCP6 = "\n".join(
    [
        HEADER,
        row(0, f"{V6_LOOPBACK}:1F90", f"{V6_LOOPBACK}:D431", 0),
        row(1, f"{V6_MAPPED}:D432", f"{V6_MAPPED}:1F90", 1001),
    ]
)


def test_the_kernels_tables_are_read_as_addresses_and_owners() -> None:
    assert sys.byteorder == "little", "the sample tables are a little-endian kernel's"
    listed = list(sockets(TCP))
    assert listed == [
        (address("127.0.0.1", 8080), address("0.0.0.0", 0), 1000),
        (address("127.4.9.33", 40553), address("127.0.0.1", 8080), 4242),
    ]
    six = list(sockets(TCP6))
    assert six[0] == (address("::1", 8080), address("::1", 54321), 0)
    # An IPv4 client of a dual-stack socket: the mapped address reads as IPv4.
    assert six[1] == (address("127.0.0.1", 54322), address("127.0.0.1", 8080), 1001)
    assert address("::ffff:127.0.0.1", 1) == (ipaddress.ip_address("127.0.0.1"), 1)


def test_the_owner_is_the_socket_connected_from_the_peer_to_us(tmp_path: Path) -> None:
    (tmp_path / "tcp").write_text(TCP)
    (tmp_path / "tcp6").write_text(TCP6)
    ours = address("127.0.0.1", 8080)
    assert socket_owner(address("127.4.9.33", 40553), ours, tmp_path) == 4242
    assert socket_owner(address("127.0.0.1", 54322), ours, tmp_path) == 1001
    assert socket_owner(address("127.4.9.33", 40554), ours, tmp_path) is None
    assert socket_owner(address("127.4.9.33", 40553), address("127.0.0.1", 8081), tmp_path) is None
    empty = tmp_path / "none"
    empty.mkdir()
    assert not can_tell(empty)
    with pytest.raises(OSError):
        socket_owner(address("127.4.9.33", 40553), ours, empty)


@pytest.fixture
def connection() -> Iterator[tuple[socket.socket, socket.socket]]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        accepted, _ = server.accept()
        with client, accepted:
            yield client, accepted


def test_this_machines_own_connection_belongs_to_this_account(
    connection: tuple[socket.socket, socket.socket],
) -> None:
    assert can_tell(), "kron ui's peer check needs /proc/net/tcp (Linux)"
    _, accepted = connection
    peer, ours = accepted.getpeername(), accepted.getsockname()
    assert socket_owner(address(*peer), address(*ours)) == os.geteuid()
    assert socket_owner(address(peer[0], peer[1]), address(ours[0], ours[1] + 1)) is None
