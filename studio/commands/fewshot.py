"""studio fewshot PATH -k K [--per-label COL] [--diverse] --template FILE [--eval N] -o DIR
[--seed S] [--tokenizer NAME] [--context N] [--exemplar-format TEXT] [--input-column SRC]
[--output-column SRC] [--recipe R] [--force] [--json]"""

from __future__ import annotations

import argparse
import sys

from studio.commands._common import dump_json, open_input
from studio.engine.errors import StepError
from studio.engine.fewshot import (
    DEFAULT_EXEMPLAR,
    EXEMPLAR_FIELDS,
    PROMPT_FIELDS,
    build_pack,
    read_template,
    write_pack,
)
from studio.engine.recipe import Recipe, run_recipe
from studio.engine.steps.fewshot import FewShotPack

HELP = "write a few-shot prompt pack: k exemplars, a held-out evaluation set and the prompt"

_EPILOG = (
    "The evaluation rows are drawn first (seeded; stratified by --per-label) and exemplars never "
    "come from them. Prompt template placeholders: "
    + ", ".join("{" + f + "}" for f in PROMPT_FIELDS)
    + "; exemplar format placeholders: "
    + ", ".join("{" + f + "}" for f in EXEMPLAR_FIELDS)
    + ". Write a literal brace as {{ or }}. DIR gets PROMPT.md (the prompt with {input} left "
    "in), exemplars.jsonl, eval.jsonl (input, expected output, prompt tokens) and "
    "fewshot.recipe.json (replay it with --recipe, or 'studio run')."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = _EPILOG
    parser.add_argument("path", metavar="PATH", help="input dataset")
    parser.add_argument("-k", type=int, default=None, metavar="K", help="exemplars (per label)")
    parser.add_argument(
        "--per-label", default="", metavar="COL", help="choose K exemplars for each value of COL"
    )
    parser.add_argument(
        "--diverse",
        action="store_true",
        help="spread exemplars across clusters of the input text (default: seeded random)",
    )
    parser.add_argument(
        "--template", default=None, metavar="FILE", help="prompt template file with placeholders"
    )
    parser.add_argument(
        "--eval", type=int, default=20, metavar="N", help="evaluation rows (default 20)"
    )
    parser.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--tokenizer",
        default="",
        metavar="NAME_OR_PATH",
        help="tokenizer for the token count (default: a characters/4 estimate)",
    )
    parser.add_argument(
        "--context",
        type=int,
        default=0,
        metavar="N",
        help="context limit (default: the tokenizer's model_max_length, else 4096)",
    )
    parser.add_argument(
        "--exemplar-format",
        default=DEFAULT_EXEMPLAR,
        metavar="TEXT",
        help="how one exemplar is written (default: 'Input: {input}\\nOutput: {output}')",
    )
    parser.add_argument(
        "--input-column", default="", metavar="SRC", help="input column (COL or COL1+COL2)"
    )
    parser.add_argument("--output-column", default="", metavar="SRC", help="expected output column")
    parser.add_argument(
        "--recipe",
        default=None,
        metavar="RECIPE",
        help="replay a recipe ending with a few-shot pack step (as written beside a pack)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing pack files")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")


def _step_from_args(args: argparse.Namespace) -> FewShotPack:
    if args.k is None or args.template is None:
        raise StepError("Give -k K and --template FILE (or --recipe RECIPE).")
    return FewShotPack(
        k=args.k,
        mode="diverse" if args.diverse else "random",
        per_label=args.per_label,
        input=args.input_column,
        output=args.output_column,
        eval_n=args.eval,
        seed=args.seed,
        template=read_template(args.template),
        exemplar_format=args.exemplar_format.replace("\\n", "\n"),
        tokenizer=args.tokenizer,
        context=args.context,
    )


def run(args: argparse.Namespace) -> int:
    if args.recipe:
        recipe = Recipe.load(args.recipe)
        if not recipe.steps or not isinstance(recipe.steps[-1], FewShotPack):
            raise StepError(f"{args.recipe}: the recipe does not end with a few-shot pack step.")
        step = recipe.steps[-1]
        before = Recipe(recipe.steps[:-1], recipe.source, recipe.restored)
        dataset = open_input(args.path, dict(recipe.source.get("options") or {}))
    else:
        step = _step_from_args(args)
        before = Recipe(steps=[])
        dataset = open_input(args.path)
    frame = dataset.frame
    if before.steps:
        out, _ = run_recipe(frame, before)
        frame = out.lazy()
    step.validate(frame.collect_schema())
    pack = build_pack(frame, step)
    result = write_pack(
        dataset, frame, step, args.output, force=args.force, recipe=before, pack=pack
    )
    if args.json:
        dump_json(
            {
                "folder": str(result.folder),
                "files": [str(p) for p in result.files],
                "exemplars": pack.exemplars.height,
                "eval": pack.eval.height,
                "labels": pack.labels,
                "prompt_tokens": pack.prompt_tokens,
                "max_tokens": pack.max_tokens,
                "context": pack.context,
                "context_source": pack.context_source,
                "tokenizer": pack.tokenizer_label,
                "estimate": pack.estimate,
                "over_limit": pack.over_limit,
                "notes": pack.notes,
            }
        )
    else:
        print(pack.preview)
    for note in pack.notes:
        print(f"note: {note}", file=sys.stderr)
    print(pack.token_line(), file=sys.stderr)
    print(result.summary(), file=sys.stderr)
    return 0
