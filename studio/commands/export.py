"""studio export PATH -o OUT --format FORMAT [--map FIELD=COLUMN,...] [--system TEXT]
[--split-column COL] [--force]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.commands._common import open_input
from studio.engine.export import ExportBlocked, ExportOptions, export_dataset, parse_map
from studio.engine.progress import RunContext, running
from studio.engine.steps.export import FIELDS, FORMATS

HELP = "write a dataset in a trainer format, with its recipe and a data card beside it"

_EPILOG = (
    "Fields: "
    + "; ".join(f"{fmt}: {', '.join(fields)}" for fmt, fields in FIELDS.items())
    + ". For jsonl/parquet/csv/hf the fields are output column names (default: every column). "
    'A source is COLUMN, COL1+COL2 (joined by a blank line) or "constant text". '
    "With a split column (a 'split' column is used when present) one file per split is "
    "written: OUT_train.jsonl, OUT_validation.jsonl, OUT_test.jsonl (hf: one folder with a "
    "subfolder per split). Beside OUT: OUT.recipe.json and OUT.card.md."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _EPILOG
    parser.add_argument("path", metavar="PATH", help="input dataset")
    parser.add_argument(
        "-o", "--output", required=True, metavar="OUT", help="output file or folder"
    )
    parser.add_argument("--format", required=True, choices=FORMATS, help="output format")
    parser.add_argument(
        "--map",
        default=None,
        metavar="FIELD=COLUMN,...",
        help="map columns onto the format's fields (default: from the detected shape)",
    )
    parser.add_argument("--system", default="", metavar="TEXT", help="a constant system prompt")
    parser.add_argument(
        "--split-column",
        default=None,
        metavar="COL",
        help="write one output per value of COL (default: the 'split' column if any)",
    )
    parser.add_argument(
        "--no-split", action="store_true", help="write one file even when a split column exists"
    )
    parser.add_argument(
        "--on-invalid",
        choices=("block", "skip"),
        default="block",
        help="invalid rows stop the export (block, default) or are left out (skip)",
    )
    parser.add_argument(
        "--max-tokens", type=int, default=0, metavar="N", help="rows over N tokens are invalid"
    )
    parser.add_argument(
        "--tokenizer",
        default="",
        metavar="NAME",
        help="tokenizer for --max-tokens (default: the tokens_<column> columns)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing outputs")


def run(args: argparse.Namespace) -> int:
    dataset = open_input(args.path)
    options = ExportOptions(
        output=Path(args.output),
        format=args.format,
        fields=parse_map(args.map) if args.map else None,
        system=args.system,
        split_column=args.split_column,
        per_split=not args.no_split,
        on_invalid=args.on_invalid,
        max_tokens=args.max_tokens,
        tokenizer=args.tokenizer,
        force=args.force,
    )
    progress = _Progress() if sys.stderr.isatty() else None
    context = RunContext(on_progress=progress, min_interval=0.2)
    try:
        with running(context):
            result = export_dataset(dataset, dataset.frame, options)
    except ExportBlocked as exc:
        for row in exc.validation.invalid.head(20).iter_rows(named=True):
            print(f"invalid: {row['source']}: {row['reason']}", file=sys.stderr)
        raise
    finally:
        if progress is not None:
            progress.done()
    if result.skipped:
        print(
            f"skipped {result.validation.summary()}, e.g. {result.validation.examples(5)}",
            file=sys.stderr,
        )
    for label, rows in result.rows.items():
        noun = "row" if rows == 1 else "rows"
        print(f"wrote {rows:,} {noun} to {Path(args.output).parent / label}", file=sys.stderr)
    print(f"wrote {result.recipe}", file=sys.stderr)
    print(f"wrote {result.card}", file=sys.stderr)
    if result.llama_factory is not None:
        print(f"updated {result.llama_factory}", file=sys.stderr)
    return 0


class _Progress:
    """A one-line progress display on a terminal's stderr."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, done: float, total: float, note: str) -> None:
        share = done / total if total else 1.0
        sys.stderr.write(f"\r{share:6.1%} {note[:60]:<60}")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 70 + "\r")
            sys.stderr.flush()
