"""studio sample PATH -n N|P% [--fraction F] [--stratify COL] [--diverse K] [--seed S] -o OUT"""

from __future__ import annotations

import argparse

from studio.commands._common import add_output, apply_and_write
from studio.engine.steps.base import Step
from studio.engine.steps.select import DiverseSample, Sample

HELP = "a seeded random, stratified or diverse (clustered) sample of rows"


def size(text: str) -> tuple[int, float]:
    """`-n` value: a row count (`500`) or a percentage (`10%`) -> (n, fraction)."""
    text = text.strip().replace(",", "").replace("_", "")
    try:
        if text.endswith("%"):
            percent = float(text[:-1])
            if not 0 < percent <= 100:
                raise ValueError
            return 0, percent / 100
        n = int(text)
        if n <= 0:
            raise ValueError
        return n, 0.0
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive row count or a percentage like 10%, not {text!r}"
        ) from None


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1], not {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="input dataset")
    how_many = parser.add_mutually_exclusive_group(required=True)
    how_many.add_argument("-n", type=size, metavar="N", help="rows to keep, or a percentage: 10%%")
    how_many.add_argument("--fraction", type=fraction, metavar="F", help="share of rows, 0-1")
    parser.add_argument("--stratify", metavar="COL", help="keep each value's share of COL")
    parser.add_argument(
        "--diverse",
        type=int,
        metavar="K",
        help="cluster the main text into K clusters and sample evenly across them",
    )
    parser.add_argument("--column", metavar="COL", help="text column to cluster (--diverse)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_output(parser)


def build_step(args: argparse.Namespace, total: int | None = None) -> Step:
    n, frac = args.n if args.n is not None else (0, args.fraction)
    if args.diverse:
        if args.stratify:
            raise argparse.ArgumentTypeError("--stratify and --diverse cannot be combined")
        if frac:
            if total is None:
                raise ValueError("total rows needed for a diverse fraction")
            n = max(1, round(frac * total))
        return DiverseSample(column=args.column or "", k=args.diverse, n=n, seed=args.seed)
    return Sample(n=n, fraction=frac, stratify=args.stratify or "", seed=args.seed)


def run(args: argparse.Namespace) -> int:
    if args.diverse is not None and args.diverse < 1:
        from studio.engine.errors import StepError

        raise StepError("--diverse needs at least 1 cluster.")
    if args.diverse and args.stratify:
        from studio.engine.errors import StepError

        raise StepError("--stratify and --diverse cannot be combined; pick one.")
    total = None
    if args.diverse and (args.n is None or args.n[0] == 0):
        from studio.engine.io import load_dataset

        total = load_dataset(args.path).rows
    return apply_and_write(args.path, [build_step(args, total)], args)
