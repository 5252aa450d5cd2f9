"""studio select PATH --reference REF_FILE|--keywords WORDS --min-score X -o OUT"""

from __future__ import annotations

import argparse
import re

from studio.commands._common import add_output, apply_and_write
from studio.engine.steps.select import DomainScore

HELP = "score rows for domain relevance (TF-IDF cosine) and keep those above a threshold"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="input dataset")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--reference",
        metavar="REF_FILE",
        help="in-domain examples: a .txt (one per line) or any dataset file",
    )
    source.add_argument(
        "--keywords", metavar="WORDS", help="keywords, separated by commas or spaces"
    )
    parser.add_argument(
        "--min-score",
        type=float,
        default=None,
        metavar="X",
        help="keep rows with domain_score >= X (0-1); without it every row is kept and scored",
    )
    parser.add_argument("--column", metavar="COL", help="text column to score (default: main)")
    add_output(parser)


def run(args: argparse.Namespace) -> int:
    keywords = tuple(w for w in re.split(r"[,\s]+", args.keywords or "") if w)
    step = DomainScore(
        column=args.column or "",
        reference=args.reference or "",
        keywords=keywords,
        min_score=args.min_score,
    )
    return apply_and_write(args.path, [step], args)
