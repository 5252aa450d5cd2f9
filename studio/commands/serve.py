"""studio serve [PATH] [--host 127.0.0.1] [--port 8000]"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from studio.engine.errors import MissingDependency, StudioError

HELP = "serve the app to a browser (textual-serve); bound to 127.0.0.1 unless --host is given"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", default=None, metavar="PATH", help="dataset to open")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--theme", default=None, help="colour theme")


def app_command(path: str | None, theme: str | None = None) -> str:
    """The shell command textual-serve runs for each browser session: this same app."""
    parts = [sys.executable, "-m", "studio"]
    if theme:
        parts += ["--theme", theme]
    if path:
        parts.append(str(Path(path).resolve()))
    return shlex.join(parts)


def run(args: argparse.Namespace) -> int:
    if args.path is not None and not Path(args.path).exists():
        raise StudioError(f"{args.path}: no such file.")
    try:
        from textual_serve.server import Server
    except ImportError as exc:
        raise MissingDependency("textual-serve", "Serving to a browser") from exc
    if not 0 < args.port < 65536:
        raise StudioError(f"Port {args.port} is out of range.")
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: serving on {args.host}: anyone who can reach this address can use the app",
            file=sys.stderr,
        )
    server = Server(
        app_command(args.path, args.theme), host=args.host, port=args.port, title="Dataset Studio"
    )
    print(f"serving Dataset Studio on http://{args.host}:{args.port}", file=sys.stderr)
    server.serve()
    return 0
