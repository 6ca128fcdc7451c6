"""The loopback-only guard every test runs under: refused before any packet leaves, here and in children."""

from __future__ import annotations

import socket
import subprocess
import sys

import httpx
import pytest

from .conftest import ROOT, Refusals
from .netguard.loopback_guard import NetworkRefused
from .servers import RASA

UNROUTABLE = ("10.255.255.1", 80)
CONNECT_UNROUTABLE = (
    "import socket; s = socket.socket(); s.setblocking(False); s.connect(('10.255.255.1', 80)); print('connected')"
)


def test_a_connection_outside_loopback_is_refused_before_connecting(network_refusals: Refusals) -> None:
    with socket.socket() as sock:
        # non-blocking: a real connect would return at once with EINPROGRESS (a SYN on its way) or ENETUNREACH
        sock.setblocking(False)
        with pytest.raises(NetworkRefused, match=r"10\.255\.255\.1.*127\.0\.0\.0/8 and ::1"):
            sock.connect(UNROUTABLE)
        with pytest.raises(OSError):
            sock.getpeername()  # never connected, not even half-way
        with pytest.raises(NetworkRefused):
            sock.connect_ex(UNROUTABLE)
    assert network_refusals.take() == ["connection to '10.255.255.1':80"] * 2


def test_a_public_name_is_not_even_looked_up(network_refusals: Refusals) -> None:
    with pytest.raises(NetworkRefused, match="example.com"):
        socket.getaddrinfo("example.com", 443)
    # as a library sees it: an immediate connection error naming the guard, no timeout
    with pytest.raises(httpx.ConnectError, match="network guard"):
        httpx.get("https://example.com/", timeout=30)
    assert network_refusals.take() == ["name lookup of 'example.com'"] * 2


def test_a_datagram_to_a_public_address_is_refused(network_refusals: Refusals) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock, pytest.raises(NetworkRefused):
        sock.sendto(b"query", ("8.8.8.8", 53))
    assert network_refusals.take() == ["datagram to '8.8.8.8':53"]


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1"])
def test_loopback_addresses_stay_reachable(host: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        server = socket.create_server((host, 0), family=family)
    except OSError as error:  # a container without IPv6
        pytest.skip(f"cannot listen on {host}: {error}")
    with server, socket.socket(family) as client:
        client.connect(server.getsockname()[:2])
        peer, _ = server.accept()
        peer.close()
    assert socket.getaddrinfo("localhost", 80)


def _python(interpreter: str) -> str:
    if interpreter == "rasa":
        if not RASA.exists():
            pytest.skip("Rasa is not installed in .venv-rasa (make setup installs it)")
        return str(RASA.parent / "python")
    return sys.executable


@pytest.mark.parametrize("interpreter", ["tests", "rasa"])
def test_a_python_process_the_tests_start_is_guarded_too(interpreter: str, network_refusals: Refusals) -> None:
    result = subprocess.run(
        [_python(interpreter), "-c", CONNECT_UNROUTABLE], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "connected" not in result.stdout
    assert "network guard: refused connection to '10.255.255.1':80" in result.stderr
    refused = network_refusals.take()
    assert len(refused) == 1 and refused[0].endswith("connection to '10.255.255.1':80")
