"""studio augment PATH --method paraphrase|backtranslate|eda [--model NAME_OR_PATH]
[--pivot-model NAME_OR_PATH] [--field instruction|output|both|COL[,COL]] [--per-row N]
[--only-label L] [--target-count N] [--seed S] -o OUT

--field both (instruction data): each new row has its instruction AND its response augmented;
a variant is kept only if every field passes the gates; aug_similarity is the minimum."""

from __future__ import annotations

import argparse
import sys

from studio.commands._common import add_output, open_input, write_output
from studio.engine.augment import parse_fields
from studio.engine.errors import StepError
from studio.engine.steps.augment import AugmentEda
from studio.engine.steps.augment_models import AugmentModel

HELP = "make new rows by paraphrase, back-translation or rule-based edits, with provenance"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH")
    parser.add_argument("--method", required=True, choices=["paraphrase", "backtranslate", "eda"])
    parser.add_argument(
        "--model",
        default="",
        help="seq2seq model (name or local path); for backtranslate, to the pivot language",
    )
    parser.add_argument(
        "--pivot-model", default="", help="backtranslate: the model from the pivot language back"
    )
    parser.add_argument(
        "--field",
        "--column",
        dest="field",
        default="",
        metavar="FIELD",
        help="field(s) to augment: instruction, output (response), both, or COL[,COL] "
        "(default: by dataset shape; instruction data: the instruction)",
    )
    parser.add_argument("--label", default="", help="label column (default: detected)")
    parser.add_argument("--per-row", type=int, default=1)
    parser.add_argument(
        "--only-label",
        action="append",
        default=[],
        metavar="L",
        help="augment rows of this class (repeatable)",
    )
    parser.add_argument(
        "--target-count", type=int, default=0, help="add rows until each (chosen) class has N rows"
    )
    parser.add_argument(
        "--min-similarity",
        type=float,
        default=40.0,
        help="drop variants less similar than this (0-100)",
    )
    parser.add_argument(
        "--max-similarity",
        type=float,
        default=98.0,
        help="drop variants more similar than this (0-100)",
    )
    parser.add_argument(
        "--temperature", type=float, default=1.0, help="sampling temperature (0: beam search)"
    )
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--beams", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    add_output(parser)


def run(args: argparse.Namespace) -> int:
    dataset = open_input(args.path)
    label = args.label or (
        (dataset.shape.label or "") if (args.only_label or args.target_count) else ""
    )
    if (args.only_label or args.target_count) and not label:
        raise StepError("No label column was detected; pass --label COL.")
    fields = parse_fields(args.field, dataset.frame)
    common = dict(
        column=fields[0] if len(fields) == 1 else "",
        columns=fields if len(fields) > 1 else (),
        per_row=args.per_row,
        label=label,
        only_labels=tuple(args.only_label),
        target_count=args.target_count,
        max_similarity=args.max_similarity,
        min_similarity=args.min_similarity,
        seed=args.seed,
    )
    if args.method == "eda":
        step = AugmentEda(**common)  # type: ignore[arg-type]
    else:
        if not args.model:
            raise StepError(f"--method {args.method} needs --model NAME_OR_PATH.")
        step = AugmentModel(
            method=args.method,
            model=args.model,
            pivot_model=args.pivot_model,
            temperature=args.temperature,
            top_p=args.top_p,
            num_beams=args.beams,
            **common,  # type: ignore[arg-type]
        )
    report = step.run(dataset.frame)
    print(f"{step.describe()}: {report.summary()}", file=sys.stderr)
    write_output(report.frame, args, dataset)
    return 0
