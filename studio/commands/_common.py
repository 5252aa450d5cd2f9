"""Helpers shared by the headless commands: open input, apply steps, write output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from studio.engine.dataset import Dataset
from studio.engine.io import load_dataset, write_frame
from studio.engine.recipe import Recipe, StepResult, run_recipe
from studio.engine.steps.base import Step


def add_output(parser: argparse.ArgumentParser, *, required: bool = True) -> None:
    parser.add_argument(
        "-o",
        "--output",
        required=required,
        metavar="OUT",
        help="output file; format from its extension",
    )
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")


def open_input(path: str, options: dict[str, object] | None = None) -> Dataset:
    """Open PATH (with a recipe's load options, so a replay reads it as the app did)."""
    dataset = load_dataset(path, **(options or {}))
    for problem in dataset.problems[:20]:
        print(f"warning: {problem}", file=sys.stderr)
    if len(dataset.problems) > 20:
        print(
            f"warning: {len(dataset.problems) - 20} more problems (see 'studio info')",
            file=sys.stderr,
        )
    return dataset


def run_steps(dataset: Dataset, steps: Sequence[Step]) -> tuple[pl.DataFrame, list[StepResult]]:
    return run_recipe(dataset.frame, Recipe(steps=list(steps)))


def print_results(results: list[StepResult], stream=None) -> None:  # noqa: ANN001
    stream = stream or sys.stderr
    for r in results:
        print(
            f"{r.step.describe()}: {r.rows_in:,} → {r.rows_out:,} rows ({r.dropped:,} removed)",
            file=stream,
        )


def write_output(frame: pl.DataFrame, args: argparse.Namespace, dataset: Dataset) -> int:
    rows = write_frame(frame, args.output, force=args.force, sources=dataset.paths)
    print(f"wrote {rows:,} rows to {args.output}", file=sys.stderr)
    return rows


def dump_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def apply_and_write(path: str, steps: Sequence[Step], args: argparse.Namespace) -> int:
    """The common shape of a headless command: open PATH, apply steps, write -o OUT."""
    dataset = open_input(path)
    Path(args.output)  # validated by write_frame
    out, results = run_steps(dataset, steps)
    print_results(results)
    write_output(out, args, dataset)
    return 0
