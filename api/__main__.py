"""Run the API: ``python -m api`` (host and port from POLICY_SERVER__HOST / POLICY_SERVER__PORT).

``python -m api telegram-poll`` serves Telegram by long polling instead (no public URL needed).

Accounts and API keys, in the work orders' database (``POLICY_STORE__URL``)::

    python -m api users add NAME --role ROLE      # password from a prompt, or one line on stdin
    python -m api users list | disable NAME | enable NAME | password NAME
    python -m api keys add NAME --role ROLE       # prints the key once; only its digest is stored
    python -m api keys list | disable NAME
    python -m api audit [--limit N]               # the latest login attempts
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from .accounts import STAFF_ROLES, AccountError, AccountStore, parse_role
from .settings import AppSettings


def _password(stream_in: Callable[[], str] | None = None) -> str:
    """A password from the terminal (asked twice) or, when stdin is not a terminal, its first line."""
    if stream_in is None and sys.stdin.isatty():
        first = getpass.getpass("密码：")
        if getpass.getpass("再输入一次：") != first:
            raise AccountError("两次输入的密码不一致")
        return first
    return (stream_in or sys.stdin.readline)().rstrip("\r\n")


def _users(store: AccountStore, args: argparse.Namespace) -> int:
    if args.action == "add":
        account = store.add_user(args.name, parse_role(args.role), _password())
        print(f"已创建用户 {account.name}（{account.role}）")
    elif args.action == "list":
        for account in store.users():
            state = "已停用" if account.disabled else "启用"
            print(f"{account.name}\t{account.role}\t{state}\t{account.created_at:%Y-%m-%d %H:%M}")
    elif args.action in ("disable", "enable"):
        account = store.set_disabled(args.name, args.action == "disable")
        print(f"{account.name}：{'已停用（会话已全部结束）' if account.disabled else '已启用'}")
    elif args.action == "password":
        store.set_password(args.name, _password())
        print(f"{args.name}：密码已更新（会话已全部结束）")
    return 0


def _keys(store: AccountStore, args: argparse.Namespace) -> int:
    if args.action == "add":
        key = store.add_key(args.name, parse_role(args.role))
        print(key)  # the only time the key is shown: stdout alone, so a script can capture it
        print(f"已创建密钥 {args.name}（{args.role}）；请立即保存，它不会再显示。", file=sys.stderr)
    elif args.action == "list":
        for found in store.keys():
            state = "已停用" if found.disabled else "启用"
            print(f"{found.name}\t{found.role}\t{found.prefix}…\t{state}\t{found.created_at:%Y-%m-%d %H:%M}")
    elif args.action == "disable":
        store.disable_key(args.name)
        print(f"密钥 {args.name} 已停用")
    return 0


def _audit(store: AccountStore, args: argparse.Namespace) -> int:
    for entry in store.audit_log(args.limit):
        print(f"{entry.at:%Y-%m-%d %H:%M:%S}\t{entry.name}\t{entry.address}\t{entry.outcome}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m api", description="政策咨询助手 API")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the API (the default)")
    commands.add_parser("telegram-poll", help="serve Telegram by long polling")
    roles = ", ".join(STAFF_ROLES)

    users = commands.add_parser("users", help="staff accounts").add_subparsers(dest="action", required=True)
    add = users.add_parser("add", help="create a user; the password is asked for, or read from stdin")
    add.add_argument("name")
    add.add_argument("--role", required=True, help=roles)
    users.add_parser("list", help="every user with role and state")
    for action, text in (("disable", "refuse logins, end sessions"), ("enable", "allow logins again")):
        users.add_parser(action, help=text).add_argument("name")
    users.add_parser("password", help="set a new password (from a prompt or stdin)").add_argument("name")

    keys = commands.add_parser("keys", help="API keys for integrations").add_subparsers(dest="action", required=True)
    add = keys.add_parser("add", help="create a key with a role; printed once")
    add.add_argument("name")
    add.add_argument("--role", required=True, help=roles)
    keys.add_parser("list", help="every key (name, role, first characters, state)")
    keys.add_parser("disable", help="refuse a key from now on").add_argument("name")

    audit = commands.add_parser("audit", help="the latest login attempts")
    audit.add_argument("--limit", type=int, default=50)
    return parser


def _serve(settings: AppSettings, command: str) -> None:
    import uvicorn

    from .app import create_app
    from .edge import configure_logging, uvicorn_log_config
    from .telegram import run_polling

    configure_logging()
    if command == "telegram-poll":
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


def main(argv: list[str] | None = None) -> int:
    """Serve the API, poll Telegram, or manage accounts, with settings from the environment."""
    args = _parser().parse_args(argv)
    settings = AppSettings()
    command = args.command or "serve"
    if command in ("serve", "telegram-poll"):
        _serve(settings, command)
        return 0
    handler = {"users": _users, "keys": _keys, "audit": _audit}[command]
    store = AccountStore.open(settings.store.url)
    try:
        return handler(store, args)
    except AccountError as error:
        print(f"错误：{error.message}", file=sys.stderr)
        return 1
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
