"""studio run RECIPE PATH -o OUT [--force] [--removed REMOVED.jsonl]"""

from __future__ import annotations

import argparse
import sys

import polars as pl

from studio.commands._common import add_output, open_input, print_results, write_output
from studio.engine.io import write_frame
from studio.engine.recipe import Recipe, run_recipe
from studio.engine.steps.base import ID

HELP = "replay a saved recipe on a dataset and write the result"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", metavar="RECIPE", help="a *.recipe.json file")
    parser.add_argument("path", metavar="PATH", help="input dataset")
    add_output(parser)
    parser.add_argument(
        "--removed", metavar="REMOVED", help="also write removed rows with a removed_by column"
    )


def run(args: argparse.Namespace) -> int:
    recipe = Recipe.load(args.recipe)
    dataset = open_input(args.path, dict(recipe.source.get("options") or {}))
    out, results = run_recipe(dataset.frame, recipe)
    print_results(results)
    write_output(out, args, dataset)
    if args.removed:
        parts = [
            r.removed.with_columns(
                (pl.lit(r.step.describe() + ": ") + pl.col("reason")).alias("removed_by")
            ).drop("reason")
            for r in results
            if r.removed.height
        ]
        removed = (
            pl.concat(parts)
            if parts
            else pl.DataFrame(schema={ID: pl.UInt64, "removed_by": pl.String})
        )
        rows = dataset.frame.join(removed.lazy(), on=ID, how="inner").collect()
        rows = rows.with_columns(dataset.source_ids(rows[ID]).alias("source"))
        write_frame(rows, args.removed, force=args.force, sources=dataset.paths)
        print(f"wrote {rows.height:,} removed rows to {args.removed}", file=sys.stderr)
    return 0
