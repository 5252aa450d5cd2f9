"""studio run RECIPE [PATH ...] -o OUT [--force] [--removed REMOVED.jsonl]

PATH may be left out when the recipe names its source; a recipe of several sources (a mixture)
reopens them all, and PATHs given replace its sources in order."""

from __future__ import annotations

import argparse
import sys

import polars as pl

from studio.commands._common import add_output, open_input, print_results, write_output
from studio.engine.dataset import Dataset
from studio.engine.errors import StudioError
from studio.engine.io import write_frame
from studio.engine.recipe import Recipe, run_recipe
from studio.engine.steps.base import ID

HELP = "replay a saved recipe on a dataset and write the result"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("recipe", metavar="RECIPE", help="a *.recipe.json file")
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="input dataset (default: the recipe's source; for a recipe of several sources, "
        "PATHs replace them in order)",
    )
    add_output(parser)
    parser.add_argument(
        "--removed", metavar="REMOVED", help="also write removed rows with a removed_by column"
    )


def _open(recipe: Recipe, paths: list[str]) -> Dataset:
    if recipe.source.get("sources"):
        from studio.engine.sources import combine_recipe_source, require_sources

        combined = combine_recipe_source(recipe.source, paths)
        require_sources(combined, mapped=False)  # the TUI combined them: a file is gone
        for line in combined.report.mismatches():
            print(f"warning: {line}", file=sys.stderr)
        return combined.dataset
    options = dict(recipe.source.get("options") or {})
    if len(paths) > 1:
        raise StudioError("This recipe reads one dataset: name one PATH.")
    if not paths:
        recorded = [str(p) for p in recipe.source.get("paths") or ()]
        if len(recorded) != 1:
            raise StudioError("The recipe does not name one input file: name the PATH.")
        paths = recorded
    return open_input(paths[0], options)


def run(args: argparse.Namespace) -> int:
    recipe = Recipe.load(args.recipe)
    dataset = _open(recipe, list(args.paths))
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
        rows = dataset.frame.join(
            removed.lazy(), on=ID, how="inner", maintain_order="left"
        ).collect()
        rows = rows.with_columns(dataset.source_ids(rows[ID]).alias("source"))
        write_frame(rows, args.removed, force=args.force, sources=dataset.paths)
        print(f"wrote {rows.height:,} removed rows to {args.removed}", file=sys.stderr)
    return 0
