"""studio replace PATH --column COL --find PATTERN --replace TEXT [--regex] -o OUT"""

from __future__ import annotations

import argparse
import sys

from studio.commands._common import add_output, apply_and_write, open_input
from studio.engine.steps.edit import Replace, replace_preview

HELP = "find and replace in a text column (literal, or a regex with $1 / \\1 groups)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="input dataset")
    parser.add_argument("--column", required=True, metavar="COL", help="text column")
    parser.add_argument("--find", required=True, metavar="PATTERN", help="text or regex to find")
    parser.add_argument(
        "--replace", required=True, metavar="TEXT", help="replacement; $1 or \\1 for groups"
    )
    parser.add_argument("--regex", action="store_true", help="PATTERN is a regular expression")
    parser.add_argument("--ignore-case", action="store_true", help="match regardless of case")
    parser.add_argument(
        "--preview", action="store_true", help="print changed rows (before/after), write nothing"
    )
    add_output(parser, required=False)


def run(args: argparse.Namespace) -> int:
    step = Replace(
        column=args.column,
        find=args.find,
        replace=args.replace,
        regex=args.regex,
        case_sensitive=not args.ignore_case,
    )
    if args.preview:
        dataset = open_input(args.path)
        count, rows = replace_preview(dataset.frame, step, limit=20)
        print(f"{count:,} rows would change", file=sys.stderr)
        for row_id, before, after in rows.iter_rows():
            print(f"{row_id}\t{before!r}\n\t{after!r}")
        return 0
    if not args.output:
        from studio.engine.errors import StudioError

        raise StudioError("Give -o OUT (or --preview to only look).")
    return apply_and_write(args.path, [step], args)
