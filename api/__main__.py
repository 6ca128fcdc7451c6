"""Run the API: ``python -m api`` (host and port from POLICY_SERVER__HOST / POLICY_SERVER__PORT)."""

from __future__ import annotations

import logging

import uvicorn

from .app import create_app
from .settings import AppSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines would log tokens in URLs
    settings = AppSettings()
    print(f"政策咨询助手: open http://{settings.server.host}:{settings.server.port}/ in a browser", flush=True)
    uvicorn.run(create_app(settings), host=settings.server.host, port=settings.server.port, log_level="info")


if __name__ == "__main__":
    main()
