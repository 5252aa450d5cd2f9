"""studio flags PATH [--column COL] -o OUT: add flag_* quality columns and print their counts."""

from __future__ import annotations

import argparse
import sys

from studio.commands._common import add_output, open_input, print_results, run_steps, write_output
from studio.engine.errors import StepError
from studio.engine.quality_flags import FLAG_NAMES, flag_counts
from studio.engine.steps.flags import AddFlags

HELP = "add per-row quality flag columns (flag_empty, flag_refusal, ...) and count them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="input dataset")
    parser.add_argument("--column", metavar="COL", help="text the flags read (default: detected)")
    parser.add_argument(
        "--flags",
        metavar="NAMES",
        default="",
        help="comma-separated subset of " + ", ".join(FLAG_NAMES),
    )
    parser.add_argument("--min-words", type=int, default=3)
    parser.add_argument("--max-words", type=int, default=2000)
    add_output(parser)


def run(args: argparse.Namespace) -> int:
    dataset = open_input(args.path)
    column = args.column or dataset.shape.text
    if not column:
        raise StepError("Name the text column with --column.")
    names = tuple(n.strip() for n in args.flags.split(",") if n.strip())
    step = AddFlags(column=column, flags=names, min_words=args.min_words, max_words=args.max_words)
    out, results = run_steps(dataset, [step])
    print_results(results)
    for name, count in flag_counts(out).items():
        print(f"flag_{name}: {count:,}", file=sys.stderr)
    write_output(out, args, dataset)
    return 0
