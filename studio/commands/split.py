"""studio split PATH --ratios 0.8,0.1,0.1 [--stratify COL] [--group COL] [--seed S] -o DIR"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from studio.commands._common import open_input, print_results, run_steps
from studio.engine.errors import StepError, WriteError
from studio.engine.io import write_frame
from studio.engine.steps.split import SPLIT, SPLITS, SplitAssign, split_counts

HELP = "split a dataset into train, validation and test files"

EXTENSIONS = {
    "jsonl": ".jsonl",
    "json": ".json",
    "csv": ".csv",
    "tsv": ".tsv",
    "parquet": ".parquet",
    "arrow": ".arrow",
    "ipc": ".arrow",
}

EPILOG = """\
output:
  DIR/train.EXT, DIR/validation.EXT and DIR/test.EXT (DIR is created if missing). EXT is
  given by --format (jsonl, json, csv, tsv, parquet, arrow); by default the input's format
  (jsonl when the input's format cannot be written). The split column is not written.
groups and copies:
  --group COL keeps rows that share a value of COL (e.g. dup_cluster from Clean) in one split.
  Rows made from other rows (copy_of from 'balance --strategy over', aug_source from
  augmentation) never leak their source into evaluation: with --copies train (default) only
  original rows are split by the ratios, a derived row goes to train when its source is in
  train and is dropped otherwise; with --copies group it shares its source's split.
"""


def _numbers(text: str, kind: type, what: str) -> tuple:
    try:
        values = tuple(kind(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} are comma-separated numbers") from None
    if len(values) not in (2, 3):
        raise argparse.ArgumentTypeError(f"give 2 or 3 {what} (train,validation[,test])")
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("path", metavar="PATH", help="input dataset")
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--ratios",
        type=lambda t: _numbers(t, float, "ratios"),
        default=(0.8, 0.1, 0.1),
        metavar="TRAIN,VAL,TEST",
        help="split ratios adding up to 1 (default 0.8,0.1,0.1)",
    )
    how.add_argument(
        "--counts",
        type=lambda t: _numbers(t, int, "counts"),
        default=(),
        metavar="TRAIN,VAL,TEST",
        help="rows per split instead of ratios (rows left over are not written)",
    )
    parser.add_argument("--stratify", default="", metavar="COL", help="keep class shares per split")
    parser.add_argument("--group", default="", metavar="COL", help="keep groups in one split")
    parser.add_argument(
        "--copies",
        choices=("train", "group"),
        default="train",
        help="where rows made from other rows go (default train; see below)",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument(
        "-o", "--output", required=True, metavar="DIR", help="output folder for the split files"
    )
    parser.add_argument(
        "--format", choices=sorted(EXTENSIONS), default=None, help="file format (default: input's)"
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing split files")


def run(args: argparse.Namespace) -> int:
    dataset = open_input(args.path)
    fmt = args.format or (dataset.format if dataset.format in EXTENSIONS else "jsonl")
    folder = Path(args.output)
    if folder.exists() and not folder.is_dir():
        raise WriteError(f"{folder} is a file; -o takes a folder for the split files.")
    step = SplitAssign(
        ratios=tuple(args.ratios),
        counts=tuple(args.counts),
        stratify=args.stratify,
        group=args.group,
        copies=args.copies,
        seed=args.seed,
    )
    names = SPLITS[: len(args.counts or args.ratios)]
    targets = [folder / f"{name}{EXTENSIONS[fmt]}" for name in names]
    if not args.force:
        existing = [str(t) for t in targets if t.exists()]
        if existing:
            raise WriteError(f"{existing[0]} already exists; pass --force to overwrite it.")
    out, results = run_steps(dataset, [step])
    print_results(results)
    if out.height == 0:
        raise StepError("No rows to split.")
    folder.mkdir(parents=True, exist_ok=True)
    for name, target in zip(names, targets, strict=True):
        part = out.filter(pl.col(SPLIT) == name).drop(SPLIT)
        rows = write_frame(part, target, force=args.force, sources=dataset.paths)
        print(f"wrote {rows:,} rows to {target}", file=sys.stderr)
    table = split_counts(out, args.stratify)
    print(table.write_csv(separator="\t").rstrip(), file=sys.stderr)
    return 0
