"""studio transfer --source SRC... --target TGT [--test TEST] -o DIR [--ratios R] [--seed S]
[--check exact|normalized|near] [--shape auto|chat|alpaca] [--tokenizer NAME] [--format F]
[--recipe R] [--force] [--json]"""

from __future__ import annotations

import argparse
import sys

from studio.commands._common import dump_json, open_input
from studio.engine.errors import StepError
from studio.engine.recipe import Recipe, run_recipe
from studio.engine.steps.transfer import TransferStages
from studio.engine.transfer import CHECKS, FORMATS, plan_transfer, write_transfer

HELP = "write transfer-learning stages: stage 1 (source tasks) and stage 2 (target), leak-checked"

_EPILOG = (
    "A source is PATH or PATH:task=NAME (more key=value pairs map columns onto the common "
    "shape, as for 'studio mix'). The target is split train/validation/test by --ratios "
    "(stratified by its label column; a target with a split column keeps it); with --test the "
    "target is split train/validation and TEST is the test set. Stage-1 rows that duplicate a "
    "validation or test row of the target (exact, normalized or near) are removed and listed in "
    "DIR/leaks.jsonl. DIR gets stage1/train.jsonl, stage2/{train,validation,test}.jsonl, "
    "summary.json and transfer.recipe.json (replay it with --recipe, or 'studio run')."
)


def _ratios(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.replace("/", ",").split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad ratios {text!r}: write e.g. 0.8,0.1,0.1") from None
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _EPILOG
    parser.add_argument(
        "--source",
        nargs="+",
        action="extend",
        default=[],
        metavar="SRC",
        help="stage-1 source dataset(s); repeat --source or list several after it",
    )
    parser.add_argument("--target", required=True, metavar="TGT", help="the target task's data")
    parser.add_argument("--test", default="", metavar="TEST", help="a separate test set")
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--ratios",
        type=_ratios,
        default=(0.8, 0.1, 0.1),
        metavar="R",
        help="train,validation[,test] ratios of the target (default 0.8,0.1,0.1)",
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--stratify",
        default="auto",
        metavar="COL",
        help="stratify the target's split by COL (default: its label column; '' for none)",
    )
    parser.add_argument(
        "--check", choices=CHECKS, default="near", help="leak check (default near: all three)"
    )
    parser.add_argument(
        "--shape", choices=("auto", "chat", "alpaca"), default="auto", help="stage-1 shape"
    )
    parser.add_argument(
        "--tokenizer", default="", metavar="NAME_OR_PATH", help="tokenizer for the token counts"
    )
    parser.add_argument("--format", choices=tuple(FORMATS), default="jsonl", help="data format")
    parser.add_argument(
        "--recipe",
        default=None,
        metavar="RECIPE",
        help="replay a recipe ending with a transfer stages step (as written beside the stages)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing outputs")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    if args.recipe:
        recipe = Recipe.load(args.recipe)
        if not recipe.steps or not isinstance(recipe.steps[-1], TransferStages):
            raise StepError(f"{args.recipe}: the recipe does not end with a transfer stages step.")
        step = recipe.steps[-1]
        before = Recipe(recipe.steps[:-1], recipe.source, recipe.restored)
        dataset = open_input(args.target, dict(recipe.source.get("options") or {}))
    else:
        if not args.source:
            raise StepError("Name at least one stage-1 source with --source.")
        step = TransferStages(
            sources=tuple(args.source),
            test=args.test,
            ratios=tuple(args.ratios),
            stratify=args.stratify,
            seed=args.seed,
            check=args.check,
            shape=args.shape,
            tokenizer=args.tokenizer,
            format=args.format,
        )
        before = Recipe(steps=[])
        dataset = open_input(args.target)
    frame = dataset.frame
    if before.steps:
        out, _ = run_recipe(frame, before)
        frame = out.lazy()
    step.validate(frame.collect_schema())
    plan = plan_transfer(dataset, frame, step)
    result = write_transfer(
        dataset, frame, step, args.output, force=args.force, recipe=before, plan=plan
    )
    if args.json:
        dump_json(plan.summary_json())
    else:
        print(plan.table_text())
    for line in plan.leaks.head(20).iter_rows(named=True):
        print(
            f"leak: {line['source']} ({line['task']}) {line['kind']} match of "
            f"{line['eval_split']} row {line['eval_source']}",
            file=sys.stderr,
        )
    print(f"stage 2: {plan.split_note}", file=sys.stderr)
    print(result.summary(), file=sys.stderr)
    return 0
