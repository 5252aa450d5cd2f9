"""studio report PATH [-o report.md|report.html] [--json]"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from studio.commands._common import open_input
from studio.engine.approach import Recommendation, count_tasks, figures_from_report, recommend
from studio.engine.errors import WriteError
from studio.engine.io import atomic_path
from studio.engine.report import build_report, figures_for_approach

HELP = "measure data quality and recommend a fine-tuning approach (Markdown, HTML or JSON)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH")
    parser.add_argument("-o", "--output", metavar="OUT", help="write report.md or report.html")
    parser.add_argument("--json", action="store_true", help="print (or write) JSON")
    parser.add_argument("--force", action="store_true", help="overwrite OUT")
    parser.add_argument(
        "--max-tokens", type=int, default=None, help="count rows over this many tokens"
    )
    parser.add_argument(
        "--no-label-errors", action="store_true", help="skip the k-fold label-error search"
    )
    parser.add_argument(
        "--model-size",
        type=float,
        default=7.0,
        help="base model size in billions for the estimator",
    )
    parser.add_argument("--gpu-gb", type=float, default=24.0)


def headline(rec: Recommendation) -> str:
    data = rec.to_json()
    return f"{data['approach_name']} ({data['method_name']})"


def run(args: argparse.Namespace) -> int:
    dataset = open_input(args.path)
    rep = build_report(
        dataset.frame,
        dataset.shape,
        name=dataset.name,
        max_tokens=args.max_tokens,
        label_errors=not args.no_label_errors,
    )
    figures = figures_from_report(figures_for_approach(rep), tasks=count_tasks(dataset.frame))
    rec = recommend(figures, params_b=args.model_size, gpu_gb=args.gpu_gb)
    if args.json or (args.output and args.output.endswith(".json")):
        data = rep.to_json()
        data["recommendation"] = rec.to_json()
        data["problems"] = [p.to_json() for p in dataset.problems]
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
    elif args.output and args.output.endswith((".html", ".htm")):
        import html

        def items(lines: list[str]) -> str:
            return "<ul>" + "".join(f"<li>{html.escape(r)}</li>" for r in lines) + "</ul>"

        text = (
            rep.to_html()
            + f"<h2>Recommendation</h2><p><b>{html.escape(headline(rec))}</b></p>"
            + items(rec.reasons)
            + (
                f"<h3>What would change it</h3>{items(rec.would_change)}"
                if rec.would_change
                else ""
            )
            + (f"<h3>Data preparation</h3>{items(rec.preparation)}" if rec.preparation else "")
            + "\n"
        )
    else:
        text = (
            rep.to_markdown()
            + f"\n## Recommendation\n\n**{headline(rec)}**\n\n"
            + "\n".join(f"- {r}" for r in rec.reasons)
            + "\n"
        )
        if rec.would_change:
            text += (
                "\n### What would change it\n\n"
                + "\n".join(f"- {r}" for r in rec.would_change)
                + "\n"
            )
        if rec.preparation:
            text += (
                "\n### Data preparation\n\n" + "\n".join(f"- {r}" for r in rec.preparation) + "\n"
            )
    if not args.output:
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    if out.exists() and not args.force:
        raise WriteError(f"{out} already exists; pass --force to overwrite it.")
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0
