"""studio dedup PATH --column COL --mode exact|normalized|near|semantic [--threshold T]
[--keep POLICY] [--against OTHER] [--clusters CLUSTERS.jsonl] [--model M] -o OUT"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from studio.commands._common import add_output, open_input, print_results, run_steps, write_output
from studio.engine.dedup.text import Normalization
from studio.engine.errors import StepError
from studio.engine.io.writers import atomic_path, check_target
from studio.engine.steps.base import ID, Step
from studio.engine.steps.dedup import (
    DedupAgainst,
    DedupExact,
    DedupNear,
    DedupNormalized,
    DedupSemantic,
    DedupStep,
    parse_keep,
)

HELP = "drop exact, normalized, near or semantic duplicates (or rows leaking from another file)"

MODES = ("exact", "normalized", "near", "semantic")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="input dataset")
    parser.add_argument(
        "--column",
        metavar="COL",
        help="text column to compare (default: the detected text column; exact: all columns)",
    )
    parser.add_argument("--mode", choices=MODES, default="exact", help="how rows are compared")
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        metavar="T",
        help="near: shingle Jaccard for LSH (default 0.5); semantic: cosine (default 0.95)",
    )
    parser.add_argument(
        "--similarity",
        type=float,
        default=None,
        metavar="S",
        help="near: rapidfuzz ratio a candidate pair needs, 0-1 (default 0.8)",
    )
    parser.add_argument(
        "--keep",
        default="first",
        metavar="POLICY",
        help="first, last, longest, shortest, complete, highest:COL or lowest:COL",
    )
    parser.add_argument(
        "--against",
        metavar="OTHER",
        help="instead: drop rows of PATH that also appear in OTHER (exact, normalized or near)",
    )
    parser.add_argument(
        "--clusters", metavar="CLUSTERS", help="write one JSON line per duplicate cluster"
    )
    parser.add_argument(
        "--normalize",
        metavar="WHAT",
        default="all",
        help="normalized: what the key ignores, from case,whitespace,punctuation,nfkc (default all)",
    )
    parser.add_argument(
        "--shingle",
        choices=("word", "char"),
        default=None,
        help="near: word or character shingles (default word)",
    )
    parser.add_argument(
        "--ngram",
        type=int,
        default=None,
        metavar="N",
        help="near: shingle length in words or characters (default 3)",
    )
    parser.add_argument(
        "--num-perm",
        type=int,
        default=None,
        metavar="K",
        help="near: MinHash signature length (default 64)",
    )
    parser.add_argument(
        "--bands",
        metavar="BxR",
        default=None,
        help="near: LSH bands x rows by hand, e.g. 16x4 (default: derived from --threshold)",
    )
    parser.add_argument("--model", metavar="MODEL", help="semantic: encoder name or local folder")
    parser.add_argument(
        "--cluster-column",
        metavar="NAME",
        default="",
        help="also add an Int64 cluster id column (e.g. dup_cluster)",
    )
    add_output(parser)


NEAR_ONLY = ("similarity", "shingle", "ngram", "num_perm", "bands")


def refuse_ignored_options(args: argparse.Namespace) -> None:
    """An option the chosen mode would not read is an error, not silently dropped."""

    def flag(name: str) -> str:
        return "--" + name.replace("_", "-")

    mode = args.mode
    given = [n for n in NEAR_ONLY if getattr(args, n, None) is not None]
    if given and mode != "near":
        raise StepError(f"{flag(given[0])} applies to --mode near, not --mode {mode}.")
    shape = [n for n in given if n != "similarity"]
    if shape and args.against:
        raise StepError(
            f"{flag(shape[0])} applies to --mode near without --against (leaks are found with "
            "the default shingles; --threshold and --similarity apply)."
        )
    if args.threshold is not None and mode in ("exact", "normalized"):
        raise StepError(
            f"--threshold applies to --mode near and semantic; --mode {mode} compares whole texts."
        )
    if args.model and mode != "semantic":
        raise StepError(f"--model applies to --mode semantic, not --mode {mode}.")
    if args.normalize != "all" and (mode != "normalized" or args.against):
        raise StepError("--normalize applies to --mode normalized without --against.")
    if args.against and (args.keep != "first" or args.cluster_column):
        option = "--keep" if args.keep != "first" else "--cluster-column"
        raise StepError(
            f"{option} does not apply with --against: every row of PATH found in OTHER is dropped."
        )


def build_step(args: argparse.Namespace, text_column: str | None) -> Step:
    refuse_ignored_options(args)
    column = args.column or text_column
    if args.against:
        if args.mode == "semantic":
            raise StepError("--against compares exact, normalized or near duplicates.")
        if not column:
            raise StepError("Name the column to compare with --column.")
        return DedupAgainst(
            other=args.against,
            column=column,
            mode=args.mode,
            threshold=args.threshold if args.threshold is not None else 0.5,
            similarity=args.similarity if args.similarity is not None else 0.8,
        )
    keep, keep_column = parse_keep(args.keep)
    common = {"keep": keep, "keep_column": keep_column, "cluster_column": args.cluster_column}
    if args.mode == "exact":
        return DedupExact(columns=(args.column,) if args.column else (), **common)
    if not column:
        raise StepError("Name the text column with --column.")
    if args.mode == "normalized":
        options = Normalization.parse(args.normalize)
        return DedupNormalized(
            column=column,
            case=options.case,
            whitespace=options.whitespace,
            punctuation=options.punctuation,
            nfkc=options.nfkc,
            **common,
        )
    if args.mode == "near":
        return DedupNear(column=column, **near_options(args), **common)
    if not args.model:
        raise StepError("Semantic dedup needs --model (a model name or a local folder).")
    extra = {"threshold": args.threshold} if args.threshold is not None else {}
    return DedupSemantic(column=column, model=args.model, **extra, **common)


def near_options(args: argparse.Namespace) -> dict[str, Any]:
    """DedupNear fields given on the command line (the step's defaults for the rest)."""
    extra: dict[str, Any] = {}
    for name in ("threshold", "similarity", "shingle", "ngram", "num_perm"):
        value = getattr(args, name, None)
        if value is not None:
            extra[name] = value
    if getattr(args, "bands", None):
        bands, _, rows = str(args.bands).lower().partition("x")
        try:
            extra["bands"], extra["rows"] = int(bands), int(rows)
        except ValueError:
            raise StepError(f"--bands takes BANDSxROWS, like 16x4, not {args.bands!r}.") from None
    return extra


def run(args: argparse.Namespace) -> int:
    dataset = open_input(args.path)
    step = build_step(args, dataset.shape.text)
    # both targets are checked before any work, so a refused --clusters file does not leave
    # OUT written behind it
    check_target(Path(args.output), force=args.force, sources=dataset.paths)
    if args.clusters:
        if Path(args.clusters).resolve() == Path(args.output).resolve():
            raise StepError("--clusters and -o name the same file; choose two files.")
        check_target(Path(args.clusters), force=args.force, sources=dataset.paths)
    out, results = run_steps(dataset, [step])
    print_results(results)
    write_output(out, args, dataset)
    if args.clusters:
        lines = cluster_lines(step, dataset)
        write_jsonl_lines(args.clusters, lines, force=args.force, sources=dataset.paths)
        print(f"wrote {len(lines):,} clusters to {args.clusters}", file=sys.stderr)
    return 0


def write_jsonl_lines(path: str, lines: list[str], *, force: bool, sources: list[str]) -> None:
    target = Path(path)
    check_target(target, force=force, sources=sources)
    with atomic_path(target) as tmp:
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def cluster_lines(step: Step, dataset) -> list[str]:  # noqa: ANN001
    """One JSON object per cluster: members' source ids (file:line) and the kept one."""
    frame = dataset.frame
    if isinstance(step, DedupAgainst):
        leaks = step.leaks(frame)
        if leaks.height == 0:
            return []
        leaks = leaks.with_columns(dataset.source_ids(leaks[ID]).alias("source"))
        grouped = leaks.group_by("other_id", maintain_order=True).agg(
            "source", "other_source", pl.col(ID)
        )
        return [
            json.dumps(
                {
                    "other": row["other_source"][0],
                    "members": row["source"],
                    "member_ids": [int(i) for i in row[ID]],
                    "kept": None,
                },
                ensure_ascii=False,
            )
            for row in grouped.iter_rows(named=True)
        ]
    assert isinstance(step, DedupStep)
    _, found = step.decide(frame)  # cached from the run that just wrote the output
    lines = []
    sources = dataset.source_ids(pl.Series(found.ids.astype(np.int64))).to_list()
    for c, members in enumerate(found.members()):
        kept = int(found.kept[c])
        lines.append(
            json.dumps(
                {
                    "cluster": c,
                    "size": len(members),
                    "similarity": round(float(found.similarity[c]), 4),
                    "members": [sources[i] for i in members.tolist()],
                    "member_ids": [int(found.ids[i]) for i in members.tolist()],
                    "kept": sources[kept] if kept >= 0 else None,
                    "kept_id": int(found.ids[kept]) if kept >= 0 else None,
                },
                ensure_ascii=False,
            )
        )
    return lines
