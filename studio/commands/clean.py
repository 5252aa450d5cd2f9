"""studio clean PATH --ops strip,nfkc,html,... [--column COL] [--output-column NEW]
[--stopwords FILE] [--language LANG] -o OUT"""

from __future__ import annotations

import argparse

from studio.commands._common import add_output, open_input, print_results, run_steps, write_output
from studio.engine.errors import StepError
from studio.engine.steps.clean import OPS, build_ops

HELP = "apply cleaning ops (whitespace, Unicode, control characters, HTML, empty markers, ...)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="input dataset")
    parser.add_argument(
        "--ops",
        required=True,
        metavar="OPS",
        help="comma-separated, applied in order: " + ", ".join(OPS),
    )
    parser.add_argument(
        "--column",
        metavar="COL",
        action="append",
        help="text column to clean (repeat for several; default: the detected text column)",
    )
    parser.add_argument(
        "--output-column",
        metavar="NEW",
        default="",
        help="write the cleaned text to this new column instead of in place",
    )
    parser.add_argument(
        "--stopwords",
        metavar="FILE",
        default="",
        help="stopwords op: one word per line (default: the built-in English list)",
    )
    parser.add_argument(
        "--language",
        metavar="LANG",
        default="",
        help="stem op: Snowball stemmer language (default english)",
    )
    add_output(parser)


def run(args: argparse.Namespace) -> int:
    dataset = open_input(args.path)
    columns = args.column or ([dataset.shape.text] if dataset.shape.text else [])
    if not columns:
        raise StepError("Name the column to clean with --column.")
    if args.output_column and len(columns) > 1:
        raise StepError("--output-column works with one --column.")
    steps = [
        s
        for c in columns
        for s in build_ops(
            args.ops, c, args.output_column, stopwords=args.stopwords, language=args.language
        )
    ]
    out, results = run_steps(dataset, steps)
    print_results(results)
    write_output(out, args, dataset)
    return 0
