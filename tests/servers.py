"""Start the real action server and Rasa server (and the API) on free loopback ports for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
RASA_MODEL = ROOT / "var" / "models" / "policy-assistant.tar.gz"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 180.0) -> None:
    """Poll a URL until it answers 200, failing with the process's log when it dies or times out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not come up in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextmanager
def running(args: list[str], env: dict[str, str], log: Path, ready_url: str, timeout: float = 180.0) -> Iterator[None]:
    """A server process for the duration of the block, stopped (and killed if need be) afterwards."""
    with open(log, "wb") as out:
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_for(ready_url, process, log, timeout)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class Stack:
    """URLs of the running servers and the environment that points them at the test knowledge base."""

    rasa_url: str
    actions_url: str
    env: dict[str, str]
    workdir: Path


def ensure_rasa_model() -> None:
    """Train the Rasa model when the dialogue data changed (make decides), or reuse the cached one."""
    subprocess.run(["make", "-s", "model"], cwd=ROOT, check=True)


@contextmanager
def assistant_stack(workdir: Path, knowledge_env: dict[str, str]) -> Iterator[Stack]:
    """The action server over the given knowledge base and a Rasa server using it."""
    ensure_rasa_model()
    actions_port, rasa_port = free_port(), free_port()
    env = {**os.environ, **knowledge_env, "PYTHONUNBUFFERED": "1"}
    actions_url = f"http://127.0.0.1:{actions_port}"
    rasa_env = {
        **env,
        "HOME": str(ROOT / "var" / "rasa-home"),
        "TMPDIR": str(ROOT / "var" / "tmp"),
        "ACTION_ENDPOINT_URL": f"{actions_url}/webhook",
        "RASA_TELEMETRY_ENABLED": "false",
    }
    for folder in ("rasa-home", "tmp"):
        (ROOT / "var" / folder).mkdir(parents=True, exist_ok=True)
    actions_cmd = [sys.executable, "-m", "actions", "--port", str(actions_port)]
    rasa_cmd = [
        str(RASA), "run", "--model", str(RASA_MODEL), "--port", str(rasa_port), "--interface", "127.0.0.1",
        "--credentials", "bot/credentials.yml", "--endpoints", "bot/endpoints.yml",  # no --enable-api: closed
    ]
    with running(actions_cmd, env, workdir / "actions.log", f"{actions_url}/health"):
        rasa_url = f"http://127.0.0.1:{rasa_port}"
        # Rasa loads its model before it listens: on a loaded 2-core machine that took over 5 minutes
        with running(rasa_cmd, rasa_env, workdir / "rasa.log", f"{rasa_url}/", timeout=600):
            yield Stack(rasa_url, actions_url, env, workdir)


@contextmanager
def serving_api(app: Any, timeout: float = 60.0) -> Iterator[str]:
    """An ASGI app under uvicorn on a free loopback port, in a background thread; yields its base URL."""
    import uvicorn  # only the tests and benches that serve the API need it

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the API did not start on port {port}")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
