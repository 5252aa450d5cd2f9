"""studio info PATH [--json] [--text COL] [--label COL] [--kind KIND] [load options]"""

from __future__ import annotations

import argparse
from pathlib import Path

from studio.commands._common import dump_json
from studio.engine.dataset import Dataset
from studio.engine.io import load_dataset
from studio.engine.shape import KINDS

HELP = "describe a dataset: format, rows, columns and roles, shape, problems"

_SHOWN_PROBLEMS = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="dataset file, folder or glob")
    parser.add_argument("--json", action="store_true", help="print JSON")
    add_load_options(parser)


def add_load_options(parser: argparse.ArgumentParser) -> None:
    """The options of `load_dataset` as flags (shared by commands that open a dataset)."""
    group = parser.add_argument_group("how to read PATH")
    group.add_argument("--text", metavar="COL", help="the main text column (overrides detection)")
    group.add_argument("--label", metavar="COL", help="the label column (overrides detection)")
    group.add_argument("--kind", choices=KINDS, help="the dataset kind (overrides detection)")
    group.add_argument(
        "--format",
        metavar="FMT",
        help="read as this format: jsonl, json, csv, tsv, parquet, arrow, hf",
    )
    group.add_argument("--encoding", metavar="ENC", help="text encoding (default: UTF-8)")
    group.add_argument("--separator", metavar="SEP", help="CSV separator, e.g. ';' or tab")
    group.add_argument(
        "--header",
        dest="has_header",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="whether the CSV's first row names the columns (default: guessed)",
    )
    group.add_argument("--split", help="split of a Hugging Face DatasetDict folder")


def load_options(args: argparse.Namespace) -> dict[str, object]:
    keys = ("text", "label", "kind", "format", "encoding", "separator", "has_header", "split")
    return {k: getattr(args, k) for k in keys if getattr(args, k, None) is not None}


def describe_dataset(dataset: Dataset, path: str) -> dict[str, object]:
    schema = dataset.frame.collect_schema()
    roles = dataset.shape.roles
    return {
        "path": path,
        "format": dataset.format,
        "files": len(dataset.paths),
        "rows": dataset.rows,
        "columns": [
            {"name": n, "dtype": str(schema[n]), "role": roles.get(n, "")} for n in dataset.columns
        ],
        "shape": dataset.shape.kind,
        "text_column": dataset.shape.text,
        "label_column": dataset.shape.label,
        "options": dataset.options,
        "problems": [p.to_json() for p in dataset.problems],
    }


def describe(path: str, **options: object) -> dict[str, object]:
    return describe_dataset(load_dataset(path, **options), path)


def run(args: argparse.Namespace) -> int:
    info = describe(args.path, **load_options(args))
    if args.json:
        dump_json(info)
        return 0
    files = int(info["files"])  # type: ignore[call-overload]
    where = f" in {files} files" if files > 1 else ""
    name = Path(args.path).name or args.path
    print(f"{name}: {info['format']}{where}, {info['rows']:,} rows, shape {info['shape']}")
    for col in info["columns"]:  # type: ignore[union-attr]
        role = f"  ({col['role']})" if col["role"] else ""
        print(f"  {col['name']}: {col['dtype']}{role}")
    problems = info["problems"]
    assert isinstance(problems, list)
    if problems:
        print(f"{len(problems):,} problem(s):")
        for p in problems[:_SHOWN_PROBLEMS]:
            where = f"{p['file']}:{p['line']}" if p["line"] is not None else p["file"]
            print(f"  {where}: {p['reason']}")
        if len(problems) > _SHOWN_PROBLEMS:
            print(f"  ... and {len(problems) - _SHOWN_PROBLEMS:,} more (see --json)")
    else:
        print("no problems")
    return 0
