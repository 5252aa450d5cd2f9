"""studio mix A.jsonl:task=qa B.jsonl:task=summarize ... [--weights qa=0.5,summarize=0.5 |
--counts qa=1000,... | --cap K | --temperature T] [--seed S] -o OUT"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.commands._common import add_output, dump_json, print_results
from studio.engine.errors import StudioError, WriteError
from studio.engine.io import write_frame
from studio.engine.mix import parse_counts, parse_weights, preview
from studio.engine.recipe import Recipe, StepResult, apply_step
from studio.engine.sources import SHAPES, combine, parse_source_arg, require_sources
from studio.engine.steps.base import Step
from studio.engine.steps.mix import DedupAcross, MixTasks

HELP = "mix several datasets (one task each) into one training set with controlled weights"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="PATH[:task=NAME][,FIELD=COLUMN...][,recipe=FILE] (task defaults to the file stem)",
    )
    rule = parser.add_mutually_exclusive_group()
    rule.add_argument(
        "--weights", metavar="TASK=W,...", help="share of each task (e.g. qa=0.5,summarize=0.5)"
    )
    rule.add_argument("--counts", metavar="TASK=N,...", help="rows of each task")
    parser.add_argument(
        "--cap",
        type=int,
        default=0,
        metavar="K",
        help="examples-proportional with a per-task cap K",
    )
    rule.add_argument(
        "--temperature", type=float, metavar="T", help="temperature sampling: rate ∝ n^(1/T)"
    )
    parser.add_argument(
        "--total",
        type=int,
        default=0,
        metavar="N",
        help="rows in the mixture (default: the most "
        "that --max-repeat allows; with --cap alone: the sum of the capped tasks)",
    )
    parser.add_argument(
        "--max-repeat",
        type=float,
        default=1.0,
        metavar="R",
        help="the most passes over a small task's rows (default 1: never repeat)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--dedup-across",
        choices=("exact", "normalized", "near"),
        help="first drop rows that duplicate a row of another task",
    )
    parser.add_argument(
        "--shape", choices=SHAPES, default="auto", help="common shape of the rows (default auto)"
    )
    parser.add_argument(
        "--tokenizer",
        metavar="NAME",
        help="count preview tokens with this tokenizer (default: a characters/4 estimate)",
    )
    parser.add_argument(
        "--recipe", metavar="FILE", help="also save the recipe, replayable with 'studio run FILE'"
    )
    parser.add_argument(
        "--preview", action="store_true", help="print the preview only; write nothing"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_output(parser, required=False)


def mix_step(args: argparse.Namespace) -> MixTasks:
    if args.cap and (args.weights or args.counts):
        flag = "--weights" if args.weights else "--counts"
        raise StudioError(
            f"--cap goes with examples-proportional (the default) or --temperature; "
            f"{flag} does not use it."
        )
    if args.total and args.counts:
        raise StudioError("--total does not go with --counts: the counts add up to the total.")
    common = {
        "total": args.total,
        "max_repeat": args.max_repeat,
        "seed": args.seed,
        "cap": args.cap,
    }
    if args.weights:
        weights = tuple(parse_weights(args.weights).items())
        return MixTasks(rule="percent", weights=weights, **common)
    if args.counts:
        counts = tuple(parse_counts(args.counts).items())
        return MixTasks(rule="counts", counts=counts, **common)
    if args.temperature is not None:
        return MixTasks(rule="temperature", temperature=args.temperature, **common)
    return MixTasks(rule="proportional", **common)


def run(args: argparse.Namespace) -> int:
    if not args.output and not args.preview:
        raise StudioError("Name the output with -o OUT (or pass --preview).")
    if args.recipe and not args.preview and not args.force and Path(args.recipe).exists():
        # checked before anything is written: no mixture without its recipe
        raise WriteError(f"{args.recipe} already exists; pass --force to overwrite it.")
    specs = [parse_source_arg(s) for s in args.sources]
    combined = combine(specs, shape=args.shape)
    require_sources(combined)
    for line in combined.report.mismatches():
        print(f"warning: {line}", file=sys.stderr)
    dataset = combined.dataset
    step = mix_step(args)
    steps: list[Step] = []
    results: list[StepResult] = []
    frame = dataset.frame
    if args.dedup_across:
        dedup = DedupAcross(method=args.dedup_across)
        steps.append(dedup)
        out, result = apply_step(frame, dedup)
        results.append(result)
        frame = out.lazy()
    step.validate(frame.collect_schema())
    pre = preview(frame, step.plan(frame), tokenizer=args.tokenizer)
    for line in pre.lines():
        print(line, file=sys.stderr)
    summary = {"sources": combined.report.to_json(), "preview": pre.to_json()}
    if args.preview:
        if args.json:
            dump_json(summary)
        return 0
    steps.append(step)
    out, result = apply_step(frame, step)
    results.append(result)
    print_results(results)
    rows = write_frame(out, args.output, force=args.force, sources=dataset.paths)
    print(f"wrote {rows:,} rows to {args.output}", file=sys.stderr)
    if args.recipe:
        Recipe(steps=steps, source=dataset.recipe_source()).save(args.recipe, force=args.force)
        print(f"saved the recipe to {args.recipe}", file=sys.stderr)
    if args.json:
        summary["rows"] = rows
        summary["output"] = args.output
        dump_json(summary)
    return 0
