"""Loopback ports found free at ``up`` time, never assumed.

Tests, benchmarks and other engineers' clusters share this machine, so no fixed port is
safe. Ports are chosen once per cluster and kept in the state file: a restarted component
comes back on the same port, which is what clients holding a kubeconfig expect.
"""

from __future__ import annotations

import socket
import time

LOOPBACK = "127.0.0.1"


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free on 127.0.0.1 a moment ago.

    All sockets stay open until every port is picked, so the kernel cannot hand out the
    same port twice. Another process may still take one before the component binds it;
    the component then fails to start and says so in its log.
    """
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOOPBACK, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # Same option Go's net.Listen sets: a port held only by TIME_WAIT sockets is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def wait_free(port: int, timeout: float) -> bool:
    """Wait for a killed process's listening port to be released."""
    deadline = time.monotonic() + timeout
    while not is_free(port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True
