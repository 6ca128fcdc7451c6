"""Refuse, before any packet is sent, every connection or name lookup that would leave the machine.

Tests may talk to 127.0.0.0/8 and ::1 only (the local PostgreSQL and Redis, the servers they start, the
fake WeChat and Telegram APIs). The test process installs this guard from tests/conftest.py; processes the
tests start (action server, Rasa, Telegram polling) install it from the ``sitecustomize`` next to this
file, found through PYTHONPATH, and append what they refused to the file named by ``LOG_VARIABLE``.
Standard library only, and Python 3.10 syntax: the Rasa environment imports it too.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

LOG_VARIABLE = "LOOPBACK_GUARD_LOG"
LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class NetworkRefused(ConnectionRefusedError):
    """A test (or a process it started) tried to reach an address outside 127.0.0.0/8 and ::1."""


def is_loopback(host: object) -> bool:
    """Whether ``host`` (an address literal or a name) stays on this machine's loopback interface."""
    name = (host.decode() if isinstance(host, bytes) else str(host)).strip("[]").split("%")[0]
    if name.lower() in LOCAL_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return False
    return True


def _resolves_locally(host: object) -> bool:
    """A lookup that sends no query: no host, an address literal, localhost, or this machine's own name."""
    if host is None:
        return True
    name = host.decode() if isinstance(host, bytes) else str(host)
    return name in ("", "*") or _is_literal(name) or name.lower() in LOCAL_NAMES or name == socket.gethostname()


class Guard:
    """The installed patches and every attempt refused since the last ``clear()``, from any thread."""

    def __init__(self, log_path: str | None = None) -> None:
        self.attempts: list[str] = []
        self.log_path = log_path
        self._lock = threading.Lock()
        self._originals: dict[str, Any] = {}

    def refuse(self, what: str) -> None:
        message = f"network guard: refused {what}; tests may only reach 127.0.0.0/8 and ::1"
        with self._lock:
            self.attempts.append(what)
            if self.log_path:
                with open(self.log_path, "a", encoding="utf-8") as log:
                    log.write(f"pid {os.getpid()}: {what}\n")
        raise NetworkRefused(message)

    def check_address(self, address: Any, verb: str = "connection") -> None:
        if isinstance(address, tuple) and address and not is_loopback(address[0]):
            port = address[1] if len(address) > 1 else ""
            self.refuse(f"{verb} to {address[0]!r}:{port}")

    def install(self) -> None:
        """Patch socket's connect, sendto and name lookups (idempotent)."""
        if self._originals:
            return
        sock = socket.socket
        self._originals = {
            "connect": sock.connect,
            "connect_ex": sock.connect_ex,
            "sendto": sock.sendto,
            "getaddrinfo": socket.getaddrinfo,
            "gethostbyname": socket.gethostbyname,
            "gethostbyname_ex": socket.gethostbyname_ex,
        }
        originals = self._originals
        guard = self

        def connect(self: socket.socket, address: Any) -> None:
            guard.check_address(address)
            return originals["connect"](self, address)

        def connect_ex(self: socket.socket, address: Any) -> int:
            guard.check_address(address)
            return originals["connect_ex"](self, address)

        def sendto(self: socket.socket, data: Any, *args: Any) -> int:
            guard.check_address(args[-1] if args else None, "datagram")
            return originals["sendto"](self, data, *args)

        def lookup(name: str) -> Callable[..., Any]:
            def looked_up(host: Any, *args: Any, **kwargs: Any) -> Any:
                if not _resolves_locally(host):
                    guard.refuse(f"name lookup of {host!r}")
                return originals[name](host, *args, **kwargs)

            return looked_up

        sock.connect = connect  # type: ignore[method-assign]
        sock.connect_ex = connect_ex  # type: ignore[method-assign]
        sock.sendto = sendto  # type: ignore[method-assign,assignment]
        for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
            setattr(socket, name, lookup(name))

    def uninstall(self) -> None:
        """Put the original socket functions back."""
        for name in ("connect", "connect_ex", "sendto"):
            if name in self._originals:
                setattr(socket.socket, name, self._originals[name])
        for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex"):
            if name in self._originals:
                setattr(socket, name, self._originals[name])
        self._originals = {}

    def clear(self) -> None:
        with self._lock:
            self.attempts.clear()


def install_from_environment() -> Guard:
    """Install the guard in a process started by the tests, logging refusals where they can read them."""
    guard = Guard(os.environ.get(LOG_VARIABLE) or None)
    guard.install()
    return guard
