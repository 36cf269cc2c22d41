"""Ports for the suite's servers. A free port found by binding port 0 can be taken by another
process before the server binds it: every server of the suite retries on another port."""

from __future__ import annotations

import socket

# Starts tried per server before a port clash is an error.
PORT_ATTEMPTS = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
