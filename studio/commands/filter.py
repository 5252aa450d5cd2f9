"""studio filter PATH --where EXPR -o OUT"""

from __future__ import annotations

import argparse

from studio.commands._common import add_output, apply_and_write
from studio.engine.steps.filter import SqlFilter

HELP = "keep the rows where a SQL WHERE expression is true"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="input dataset")
    parser.add_argument(
        "--where",
        required=True,
        metavar="EXPR",
        help="a SQL WHERE expression, e.g. \"length(output) > 200 AND label = 'spam'\"",
    )
    add_output(parser)


def run(args: argparse.Namespace) -> int:
    return apply_and_write(args.path, [SqlFilter(where=args.where)], args)
