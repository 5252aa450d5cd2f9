"""studio tokens PATH [--tokenizer NAME_OR_PATH] [--max-tokens N] [--json] [-o OUT --drop-over|--truncate]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from studio.commands._common import dump_json, open_input, print_results, run_steps, write_output
from studio.engine.chat_checks import CHECKS, check_chat
from studio.engine.dataset import Dataset
from studio.engine.errors import StudioError
from studio.engine.io.writers import check_target
from studio.engine.steps.tokens import DropOverLimit, TruncateTokens
from studio.engine.tokens import ESTIMATE_LABEL, count_tokens, figures, load_tokenizer, plan_columns

HELP = "count tokens per row with a tokenizer, show lengths, limits and chat format problems"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="dataset file, folder or glob")
    parser.add_argument(
        "--tokenizer",
        default="",
        metavar="NAME_OR_PATH",
        help="Hugging Face tokenizer name or folder, or tiktoken:NAME; "
        "without it counts are an estimate (characters / 4)",
    )
    parser.add_argument(
        "--max-tokens", type=int, default=None, metavar="N", help="context limit per row"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument(
        "--column", action="append", default=[], metavar="COL", help="count this column only"
    )
    parser.add_argument("-o", "--output", default=None, metavar="OUT", help="write a result")
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    action = parser.add_mutually_exclusive_group()
    action.add_argument(
        "--drop-over", action="store_true", help="with -o: drop rows over --max-tokens"
    )
    action.add_argument(
        "--truncate",
        choices=("start", "end"),
        nargs="?",
        const="start",
        default=None,
        help="with -o: cut text to --max-tokens, keeping the start (default) or the end",
    )


def analyse(
    path: str,
    tokenizer: str = "",
    max_tokens: int | None = None,
    columns: list[str] | None = None,
    *,
    dataset: Dataset | None = None,
) -> dict[str, Any]:
    dataset = dataset or open_input(path)
    counter = load_tokenizer(tokenizer)
    plan = plan_columns(dataset.frame, dataset.shape, columns or ())
    counts = count_tokens(dataset.frame, counter, plan=plan, sources=dataset.paths, pristine=True)
    fig = figures(counts, counter, max_tokens)
    checks = check_chat(
        dataset.frame, plan.chat, sharegpt=plan.sharegpt, counts=counts, limit=max_tokens
    )
    out = fig.to_json()
    out = {
        "path": path,
        "shape": dataset.shape.kind,
        "columns": list(plan.columns),
        **out,
        "tokenizer": counter.label,
        "problems": {c.name: c.count for c in checks},
        "problem_rows": {c.name: [dataset.source_of(i) for i in c.ids[:20]] for c in checks},
    }
    return out


def _rows(count: int) -> str:
    return f"{count:,} row" + ("" if count == 1 else "s")


def _print(info: dict[str, Any]) -> None:
    tokens = info["tokens"]
    kind = ESTIMATE_LABEL + " " if info["estimate"] else ""
    print(f"{info['path']}: {info['rows']:,} rows, shape {info['shape']}")
    print(f"tokenizer: {info['tokenizer']}")
    if info["estimate"]:
        print("counts are an ESTIMATE (ceil(characters / 4)); pass --tokenizer for exact counts")
    print(f"columns: {', '.join(info['columns'])}")
    print(f"{kind}tokens: {tokens['total']:,} in all")
    print(
        f"  per row: p50 {tokens['p50']:,}  p90 {tokens['p90']:,}  p99 {tokens['p99']:,}"
        f"  max {tokens['max']:,}"
    )
    if tokens["trained"] is not None:
        print(f"  prompt {tokens['prompt']:,}, trained (assistant) {tokens['trained']:,}")
    if info.get("chat_counting"):
        print(f"  chats: {info['chat_counting']}")
    if info["limit"]:
        print(f"  over the limit of {info['limit']:,}: {_rows(tokens['over_limit'])}")
    print(f"  training tokens per epoch: {tokens['training_tokens_per_epoch']:,}")
    flagged = {k: v for k, v in info["problems"].items() if v}
    if flagged:
        print("problems:")
        for name, count in flagged.items():
            where = ", ".join(info["problem_rows"][name][:5])
            more = " …" if count > 5 else ""
            print(f"  {name} ({CHECKS[name]}): {_rows(count)}: {where}{more}")
    else:
        print("problems: none")


def run(args: argparse.Namespace) -> int:
    if (args.drop_over or args.truncate) and not args.output:
        raise StudioError("--drop-over and --truncate need -o OUT.")
    if (args.drop_over or args.truncate) and not args.max_tokens:
        raise StudioError("--drop-over and --truncate need --max-tokens N.")
    if args.max_tokens is not None and args.max_tokens < 1:
        raise StudioError("--max-tokens must be at least 1.")
    if args.output and not (args.drop_over or args.truncate):
        raise StudioError("-o OUT needs --drop-over or --truncate.")
    if args.truncate and len(args.column) > 1:
        raise StudioError(
            "--truncate cuts one column: name one --column (or none: the main text), "
            f"not {len(args.column)}."
        )
    dataset = open_input(args.path)
    if args.output:
        # before counting: a refused OUT should not cost a full count first
        check_target(Path(args.output), force=args.force, sources=dataset.paths)
    info = analyse(args.path, args.tokenizer, args.max_tokens, args.column, dataset=dataset)
    if args.json:
        dump_json(info)
    else:
        _print(info)
    if args.output:
        if args.drop_over:
            step: Any = DropOverLimit(args.tokenizer, args.max_tokens, tuple(args.column))
        elif args.truncate:
            column = args.column[0] if args.column else ""
            step = TruncateTokens(args.tokenizer, args.max_tokens, column, args.truncate)
        else:  # refused above
            raise StudioError("-o OUT needs --drop-over or --truncate.")
        out, results = run_steps(dataset, [step])
        print_results(results, stream=sys.stderr)
        write_output(out, args, dataset)
    return 0
