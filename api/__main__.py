"""Run the API: ``python -m api`` (host and port from POLICY_SERVER__HOST / POLICY_SERVER__PORT).

``python -m api telegram-poll`` serves Telegram by long polling instead (no public URL needed).
"""

from __future__ import annotations

import argparse

import uvicorn

from .app import create_app
from .edge import configure_logging, uvicorn_log_config
from .settings import AppSettings
from .telegram import run_polling


def main(argv: list[str] | None = None) -> None:
    """Serve the API, or poll Telegram, with settings from the environment."""
    parser = argparse.ArgumentParser(prog="python -m api", description="政策咨询助手 API")
    parser.add_argument("command", nargs="?", choices=["serve", "telegram-poll"], default="serve")
    args = parser.parse_args(argv)
    configure_logging()
    settings = AppSettings()
    if args.command == "telegram-poll":
        run_polling(settings)
        return
    print(f"政策咨询助手: open http://{settings.server.host}:{settings.server.port}/ in a browser", flush=True)
    uvicorn.run(
        create_app(settings),
        host=settings.server.host,
        port=settings.server.port,
        log_level="info",
        log_config=uvicorn_log_config(),  # access lines without query strings (/wechat's carry signatures)
    )


if __name__ == "__main__":
    main()
