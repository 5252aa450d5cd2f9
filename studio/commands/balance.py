"""studio balance PATH --label COL --strategy over|under|augment|cap [--target ...] [--seed S] -o OUT"""

from __future__ import annotations

import argparse
import sys

from studio.commands._common import add_output, open_input, print_results, run_steps, write_output
from studio.engine.errors import StepError
from studio.engine.steps.balance import (
    AugmentOversample,
    CapClasses,
    Oversample,
    Undersample,
    class_counts,
    imbalance_ratio,
)
from studio.engine.steps.base import Step

HELP = "balance the classes of a label: random over/undersampling, augmentation, or caps"

EPILOG = """\
targets (imbalanced-learn's sampling_strategy):
  auto            over: every class up to the largest; under: every class down to the smallest
  all, minority, majority, "not minority", "not majority"
                  which classes are resampled (to the largest / smallest class size)
  0.5             two classes only: over: minority = 0.5 x majority; under: majority =
                  minority / 0.5
  a=500,b=800     rows wanted per class (over: at least, under: at most its current count)
strategies:
  over     copies of rows drawn with replacement; copies get new ids and a copy_of column
  under    rows drawn without replacement
  augment  new rows made by rule-based augmentation (EDA) of --column instead of copies,
           with aug_method, aug_source and aug_similarity columns
  cap      at most --cap N rows per class (--target CLASS=N,... for per-class caps)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = EPILOG
    parser.add_argument("path", metavar="PATH", help="input dataset")
    parser.add_argument(
        "--label", metavar="COL", help="label column (default: the detected label column)"
    )
    parser.add_argument(
        "--strategy", required=True, choices=("over", "under", "augment", "cap"), help="how"
    )
    parser.add_argument(
        "--target",
        default="auto",
        metavar="auto|RATIO|CLASS=N,...",
        help="sampling target (default auto; see below)",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    parser.add_argument("--cap", type=int, default=0, metavar="N", help="cap: rows per class")
    parser.add_argument(
        "--column", default="", metavar="COL", help="augment: the text field (default per shape)"
    )
    add_output(parser)


def build_step(args: argparse.Namespace, label: str) -> Step:
    if args.strategy == "over":
        return Oversample(label=label, target=args.target, seed=args.seed)
    if args.strategy == "under":
        return Undersample(label=label, target=args.target, seed=args.seed)
    if args.strategy == "augment":
        return AugmentOversample(
            label=label, target=args.target, column=args.column, seed=args.seed
        )
    per_class = args.target if "=" in args.target else ""
    if not per_class and args.cap <= 0:
        raise StepError("Give --cap N (rows per class) or --target CLASS=N,... to cap classes.")
    return CapClasses(label=label, max_rows=args.cap, per_class=per_class, seed=args.seed)


def _print_counts(title: str, frame, label: str) -> None:  # noqa: ANN001
    table = class_counts(frame, label)
    counts = dict(zip(table[label].to_list(), table["count"].to_list(), strict=True))
    ratio = imbalance_ratio({k: v for k, v in counts.items() if k is not None})
    parts = ", ".join(f"{k}: {v:,}" for k, v in counts.items())
    print(f"{title}: {parts} (imbalance {ratio:.2f})", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    dataset = open_input(args.path)
    label = args.label or dataset.shape.label
    if not label:
        raise StepError("No label column was detected; name it with --label COL.")
    step = build_step(args, label)
    _print_counts("before", dataset.frame, label)
    if isinstance(step, AugmentOversample):
        step.validate(dataset.frame.collect_schema())
        report = step.run(dataset.frame)
        out = report.frame
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)
        print(f"{step.describe()}: {report.summary()}", file=sys.stderr)
    else:
        out, results = run_steps(dataset, [step])
        print_results(results)
    _print_counts("after", out, label)
    write_output(out, args, dataset)
    return 0
