"""The ``streampixel-emulator`` console script: serve the emulator until interrupted.

Every EmulatorSettings field is a flag (``--stage-seconds 0.5``, ``--send-retry-after``, ...),
generated from the model so the two never drift apart. ``--seed FILE`` loads users, projects
and uploads from JSON or YAML; without it the demo account is served and printed.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic.fields import FieldInfo

from .demo import DEMO_API_KEY, DEMO_PROJECT_ID, DEMO_UPLOAD_IDS, DEMO_USER_ID
from .seed import load_seed_file
from .settings import EmulatorSettings

__all__ = ["EmulatorConfig", "build_parser", "load_seed", "main", "parse_config"]

DEFAULT_PORT = 8787


@dataclass(frozen=True)
class EmulatorConfig:
    """What the command line asked for."""

    host: str
    port: int
    settings: EmulatorSettings
    seed: dict[str, Any] | None
    log_level: str


def load_seed(path: str) -> dict[str, Any]:
    """Load a seed file (JSON or YAML) as the CLI does; ValueError if it is invalid."""
    return load_seed_file(path)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser, with one flag per setting."""
    parser = argparse.ArgumentParser(
        prog="streampixel-emulator",
        description="Serve a local emulation of the Streampixel REST API "
        "(API under /pixelStripeApi, control under /_emulator).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"TCP port ({DEFAULT_PORT}; 0 = any)"
    )
    parser.add_argument(
        "--seed", metavar="FILE", help="JSON or YAML seed file (default: the demo account)"
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="emulator log level (info)",
    )
    group = parser.add_argument_group("settings (see EmulatorSettings)")
    for name, info in EmulatorSettings.model_fields.items():
        _add_setting_flag(group, name, info)
    return parser


def parse_config(argv: Sequence[str] | None = None) -> EmulatorConfig:
    """Parse the command line (exits with a usage error on invalid input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    given = {
        name: getattr(args, name)
        for name in EmulatorSettings.model_fields
        if getattr(args, name) is not None
    }
    try:
        settings = EmulatorSettings.model_validate(given)
    except ValueError as exc:
        parser.error(f"invalid setting: {exc}")
    seed = None
    if args.seed is not None:
        try:
            seed = load_seed(args.seed)
        except (OSError, ValueError) as exc:
            parser.error(f"--seed: {exc}")
    return EmulatorConfig(args.host, args.port, settings, seed, args.log_level)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until Ctrl-C or SIGTERM."""
    config = parse_config(argv)
    logging.basicConfig(
        level=config.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry URLs

    from ..serving import ServerThread  # the server framework only once we serve
    from .app import build_app

    app, runtime = build_app(config.settings, config.seed)
    server = ServerThread(app, host=config.host, port=config.port)
    server.start()
    _print_banner(server.url, config)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        runtime.cancel_delays()
        server.stop()
    return 0


def _print_banner(url: str, config: EmulatorConfig) -> None:
    lines = [
        f"Streampixel emulator on {url}",
        f"  API base URL (streampixel:apiUrl): {url}/pixelStripeApi",
        f"  control API: {url}/_emulator (docs: {url}/_emulator/docs)",
    ]
    if config.seed is None:
        lines += [
            "  demo account (fake credentials):",
            f"    user id:    {DEMO_USER_ID}",
            f"    api key:    {DEMO_API_KEY}",
            f"    project id: {DEMO_PROJECT_ID} (region europe)",
            f"    uploads:    {', '.join(DEMO_UPLOAD_IDS)} (Approved, stored)",
        ]
    else:
        counts = ", ".join(
            f"{len(config.seed.get(k, []))} {k}" for k in ("users", "projects", "uploads")
        )
        lines.append(f"  seeded: {counts}")
    print("\n".join(lines), flush=True)


def _add_setting_flag(group: argparse._ArgumentGroup, name: str, info: FieldInfo) -> None:
    flag = "--" + name.replace("_", "-")
    default = info.get_default(call_default_factory=True)
    help_text = f"{info.description or ''} (default: {default})".replace("%", "%%")
    annotation = info.annotation
    if annotation is bool:
        group.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction, help=help_text)
    elif typing.get_origin(annotation) is typing.Literal:
        choices = list(typing.get_args(annotation))
        group.add_argument(flag, dest=name, choices=choices, help=help_text)
    elif typing.get_origin(annotation) is list:
        group.add_argument(flag, dest=name, nargs="*", metavar="EVENT", help=help_text)
    elif annotation is float:
        group.add_argument(flag, dest=name, type=float, help=help_text)
    elif annotation is int:
        group.add_argument(flag, dest=name, type=int, help=help_text)
    else:
        group.add_argument(flag, dest=name, help=help_text)


if __name__ == "__main__":
    sys.exit(main())
