"""Fixtures for citizen-record tests: PostgreSQL behind a TCP forwarder, so an outage is a closed port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

import pytest
from sqlalchemy import Engine

from knowledge.db import open_engine
from knowledge.embedding import Embedder
from monitor.messages import MessageStore, import_messages

from ..conftest import shared_file
from ..postgres import throwaway_schema
from ..servers import free_port

POSTGRES = ("127.0.0.1", 5432)


class Forwarder:
    """A loopback port forwarding to the local PostgreSQL while open: closing it is an outage at the same URL."""

    def __init__(self) -> None:
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/test?connect_timeout=2"

    def open(self) -> None:
        """Start forwarding (the database is back)."""
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def close(self) -> None:
        """Stop listening and cut every open connection (the database went away)."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
            listener, self._listener = self._listener, None
        for sock in [*sockets, *([listener] if listener else [])]:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(POSTGRES)
            with self._lock:
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


@pytest.fixture(scope="session")
def year_store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[MessageStore]:
    """Every message of the real messages_2019.xlsx (4,326 rows, 2019 and a few around it) imported and embedded
    once for the whole session: embedding is the import's whole cost (bench/monitor.py), so the monitor tests that
    read real vectors share this one store and only read it."""
    path = shared_file("tipdm", "messages_2019.xlsx")
    store = MessageStore.open(f"sqlite:///{tmp_path_factory.mktemp('year')}/messages.db")
    report = import_messages(store, path, embedder)
    assert not [bad for bad in report.bad_rows if bad.skipped] and report.added > 4200, report
    yield store
    store.close()


@pytest.fixture
def forwarder() -> Iterator[Forwarder]:
    """A PostgreSQL port that starts closed: ``open()`` brings the database up, ``close()`` takes it down."""
    port = Forwarder()
    yield port
    port.close()


@contextmanager
def schema_behind(forwarder: Forwarder) -> Iterator[Engine]:
    """An engine through ``forwarder`` whose tables live in a throwaway schema (a clean skip without a server)."""
    with throwaway_schema("monitor") as direct:
        translate = direct.get_execution_options()["schema_translate_map"]
        engine = open_engine(forwarder.url).execution_options(schema_translate_map=translate)
        try:
            yield engine
        finally:
            engine.dispose()


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll a condition that background work (a writer, a replay) makes true."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return True
        except Exception:  # noqa: BLE001 - the database may still be coming back
            pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
