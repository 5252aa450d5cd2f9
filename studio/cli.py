"""Headless entry point: `studio [PATH ...]` opens the TUI; `studio COMMAND ...` runs headless.

Each command lives in `studio/commands/<name>.py` with `HELP`, `add_arguments(parser)` and
`run(args) -> int`; this module only discovers and dispatches them. Exit codes: 0 success,
2 usage error, 1 data error (one line on stderr).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from studio.engine.errors import StudioError


def _command_names() -> list[str]:
    """Command module names, found without importing them (a command's name is its module's)."""
    import studio.commands as package

    return sorted(
        i.name for i in pkgutil.iter_modules(package.__path__) if not i.name.startswith("_")
    )


def _commands(only: str | None = None) -> dict[str, ModuleType]:
    """Import the command modules (just `only` when given: heavy imports stay out of the
    commands that do not need them, e.g. `studio info`)."""
    names = [only] if only else _command_names()
    return {name: importlib.import_module(f"studio.commands.{name}") for name in names}


def _tui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio",
        description="Dataset Studio: prepare fine-tuning datasets in the terminal. "
        "Run 'studio COMMAND --help' for the headless commands.",
    )
    parser.add_argument("paths", nargs="*", metavar="PATH", help="dataset file(s), folder or glob")
    parser.add_argument("--theme", default=None, help="colour theme (see themes/)")
    parser.add_argument("--recipe", default=None, help="apply this recipe after opening")
    return parser


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studio", description="Dataset Studio, headless.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _commands(only).items():
        sp = sub.add_parser(
            name, help=getattr(module, "HELP", ""), description=getattr(module, "HELP", "")
        )
        module.add_arguments(sp)
        sp.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = _command_names()
    if argv and argv[0] in commands:
        parser = build_parser(argv[0])
        args = parser.parse_args(argv)  # argparse exits 2 on usage errors
        try:
            return int(args._module.run(args) or 0)
        except StudioError as exc:
            print(f"studio {args.command}: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print(f"studio {args.command}: interrupted", file=sys.stderr)
            return 130
    if argv and argv[0] in ("-h", "--help"):
        _tui_parser().print_help()
        print("\ncommands: " + ", ".join(commands))
        return 0
    args = _tui_parser().parse_args(argv)
    from studio.tui.app import run_app

    try:
        return run_app(args.paths, theme=args.theme, recipe=args.recipe)
    except StudioError as exc:
        print(f"studio: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
