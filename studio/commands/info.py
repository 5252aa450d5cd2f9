"""studio info PATH [--json]"""

from __future__ import annotations

import argparse

from studio.commands._common import dump_json
from studio.engine.io import load_dataset

HELP = "describe a dataset: format, rows, columns and roles, shape, problems"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="dataset file, folder or glob")
    parser.add_argument("--json", action="store_true", help="print JSON")


def describe(path: str) -> dict[str, object]:
    dataset = load_dataset(path)
    schema = dataset.frame.collect_schema()
    roles = dataset.shape.roles
    return {
        "path": path,
        "format": dataset.format,
        "rows": dataset.rows,
        "columns": [
            {"name": n, "dtype": str(schema[n]), "role": roles.get(n, "")} for n in dataset.columns
        ],
        "shape": dataset.shape.kind,
        "text_column": dataset.shape.text,
        "label_column": dataset.shape.label,
        "problems": [p.to_json() for p in dataset.problems],
    }


def run(args: argparse.Namespace) -> int:
    info = describe(args.path)
    if args.json:
        dump_json(info)
        return 0
    print(f"{info['path']}: {info['format']}, {info['rows']:,} rows, shape {info['shape']}")
    for col in info["columns"]:  # type: ignore[union-attr]
        role = f"  ({col['role']})" if col["role"] else ""
        print(f"  {col['name']}: {col['dtype']}{role}")
    problems = info["problems"]
    if problems:
        print(f"{len(problems)} problem(s):")  # type: ignore[arg-type]
        for p in problems:  # type: ignore[union-attr]
            where = f"{p['file']}:{p['line']}" if p["line"] is not None else p["file"]
            print(f"  {where}: {p['reason']}")
    return 0
