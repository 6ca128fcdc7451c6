"""Run the action server: ``python -m actions [--host 127.0.0.1] [--port 5055]``."""

from __future__ import annotations

import argparse
import logging
import threading
from pathlib import Path

from knowledge.provider import KnowledgeProvider
from knowledge.reader import KnowledgeReader
from monitor.outbox import WorkOrderDesk
from monitor.settings import MonitorSettings
from monitor.workorders import WorkOrderStore

from .server import create_server

DEFAULT_PORT = 5055


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m actions", description="政策咨询助手 action server for Rasa")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = MonitorSettings()  # the knowledge settings plus the work orders' outbox
    knowledge = KnowledgeProvider(lambda: KnowledgeReader.open(settings))
    # a database that is down does not stop the server: orders wait in this process's outbox until it is back
    desk = WorkOrderDesk(WorkOrderStore.open(settings.store.url), Path(settings.work_orders.outbox))
    app = create_server(knowledge, desk, settings.service)
    # the model and index load while the server already answers /health; the first action waits if needed
    threading.Thread(target=knowledge.warm_up, name="knowledge-warm-up", daemon=True).start()
    app.run(host=args.host, port=args.port, single_process=True, access_log=False, motd=False)


if __name__ == "__main__":
    main()
