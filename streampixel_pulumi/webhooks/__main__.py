"""The `streampixel-webhooks` console script: run the webhook receiver in the foreground.

Tokens come from options or the environment and are required; they are never printed or
logged (uvicorn's access log, which shows request paths, is off and redacted anyway).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sqlite3
import sys
from collections.abc import Sequence

import uvicorn

from streampixel_pulumi.webhooks.receiver import (
    DEFAULT_MAX_BODY_BYTES,
    create_app,
    redact_access_log,
)
from streampixel_pulumi.webhooks.store import SQLiteEventStore

__all__ = ["main"]

HOOK_TOKEN_ENV = "STREAMPIXEL_WEBHOOK_TOKEN"  # noqa: S105 (a variable name, not a secret)
READ_TOKEN_ENV = "STREAMPIXEL_READ_TOKEN"  # noqa: S105 (a variable name, not a secret)
MIN_TOKEN_LENGTH = 16
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")
_GENERATE = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"

_DESCRIPTION = """\
Receive Streampixel webhooks and serve what they say to the streampixel-pulumi provider.

Point each Streampixel project's webhook (dashboard) at  https://<this host>/hooks/<webhook token>
and give the provider streampixel:statusUrl = https://<this host> and
streampixel:statusToken = <read token>. Events are kept in an SQLite file.
"""

_EPILOG = f"""\
environment:
  {HOOK_TOKEN_ENV}  webhook token (instead of --hook-token)
  {READ_TOKEN_ENV}     read token (instead of --read-token)
Options on a command line are visible to other local users (ps); prefer the variables.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streampixel-webhooks",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="interface to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--port", type=int, default=8787, help="port to bind (default: %(default)s)"
    )
    parser.add_argument(
        "--db",
        default="./streampixel-webhooks.db",
        metavar="PATH",
        help="SQLite file for events, created if missing (default: %(default)s)",
    )
    parser.add_argument(
        "--hook-token",
        metavar="TOKEN",
        help=f"secret path segment of the webhook URL (or {HOOK_TOKEN_ENV})",
    )
    parser.add_argument(
        "--read-token",
        metavar="TOKEN",
        help=f"bearer token of the read API (or {READ_TOKEN_ENV})",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="N",
        help="refuse larger webhook bodies with 413 (default: %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="(default: %(default)s)",
    )
    return parser


def _token(parser: argparse.ArgumentParser, given: str | None, option: str, variable: str) -> str:
    """The token from `option` or `variable`; exits with a usage error naming both if unusable."""
    token = given if given is not None else os.environ.get(variable)
    where = f"{option} ({variable})"
    if not token:
        parser.error(f"missing token: pass {option} or set {variable}; {_GENERATE}")
    if len(token) < MIN_TOKEN_LENGTH:
        parser.error(f"{where}: must be at least {MIN_TOKEN_LENGTH} characters; {_GENERATE}")
    if option == "--hook-token" and not _URL_SAFE.fullmatch(token):
        parser.error(f"{where}: may only contain A-Z a-z 0-9 - _ . ~ (it is part of a URL)")
    if any(char.isspace() for char in token):
        parser.error(f"{where}: must not contain whitespace")
    return token


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and serve until interrupted."""
    parser = _parser()
    args = parser.parse_args(argv)
    hook_token = _token(parser, args.hook_token, "--hook-token", HOOK_TOKEN_ENV)
    read_token = _token(parser, args.read_token, "--read-token", READ_TOKEN_ENV)
    if hook_token == read_token:
        parser.error(f"{HOOK_TOKEN_ENV} and {READ_TOKEN_ENV} must differ")
    if args.max_body_bytes < 1:
        parser.error("--max-body-bytes must be positive")

    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        store = SQLiteEventStore(args.db)
    except (sqlite3.Error, RuntimeError) as exc:
        parser.exit(1, f"{parser.prog}: error: cannot open --db {args.db}: {exc}\n")
    app = create_app(
        store, hook_token=hook_token, read_token=read_token, max_body_bytes=args.max_body_bytes
    )
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        access_log=False,
        log_level=args.log_level,
        lifespan="on",
    )
    server = uvicorn.Server(config)
    redact_access_log()
    logging.getLogger("streampixel_pulumi.webhooks").info(
        "events are stored in %s; webhook path: POST /hooks/<%s>; "
        "read API: Authorization: Bearer <%s>",
        os.path.abspath(args.db),
        HOOK_TOKEN_ENV,
        READ_TOKEN_ENV,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass  # uvicorn re-raises Ctrl-C once it has shut down gracefully
    finally:
        store.close()
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
