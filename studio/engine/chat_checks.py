"""Format checks for chat data, the ones trainers run before a job.

Modelled on OpenAI's published data-preparation checks for chat fine-tuning and on the
ShareGPT turn-order rule of common trainers (LLaMA-Factory, FastChat): after an optional leading
system turn, human or observation turns sit at odd positions (1st, 3rd, ...) and gpt or function
turns at even ones. Each check lists the ids of the rows it flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from studio.engine.steps.base import ID
from studio.engine.tokens import CHAT_ROLES, LENGTH, SHAREGPT_ROLES

CHECKS: dict[str, str] = {
    "not_a_list": "not a list of messages",
    "unknown_role": "a message with an unknown role",
    "missing_content": "a message without content",
    "no_assistant": "no assistant message",
    "missing_system": "no system message",
    "missing_user": "no user message",
    "same_role_twice": "two consecutive turns by the same role",
    "turn_order": "ShareGPT turns out of order",
    "over_limit": "longer than the token limit",
}
"""Check name -> what a flagged row has, in plain words."""

_HUMAN_SIDE = {"human", "user", "observation", "tool"}
_MODEL_SIDE = {"gpt", "assistant", "function_call", "function", "chatgpt", "bard", "bing", "model"}


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    description: str
    ids: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.ids)


def _row_problems(value: Any, sharegpt: bool) -> list[str]:
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return ["not_a_list"]
    if not isinstance(value, list) or not value or not all(isinstance(m, dict) for m in value):
        return ["not_a_list"]
    found: set[str] = set()
    roles: list[str] = []
    raw_roles: list[str] = []
    for message in value:
        if sharegpt:
            raw = message.get("from")
            raw = raw if raw is not None else message.get("role")
            content = message.get("value")
            content = content if content is not None else message.get("content")
        else:
            raw = message.get("role")
            content = message.get("content")
        raw_s = str(raw).lower() if raw is not None else ""
        role = SHAREGPT_ROLES.get(raw_s, "") if sharegpt else raw_s
        if not role or role not in CHAT_ROLES:
            found.add("unknown_role")
        roles.append(role or raw_s)
        raw_roles.append(raw_s)
        has_call = bool(message.get("tool_calls") or message.get("function_call"))
        if _empty(content) and not has_call:
            found.add("missing_content")
    if "assistant" not in roles:
        found.add("no_assistant")
    if "system" not in roles:
        found.add("missing_system")
    if "user" not in roles:
        found.add("missing_user")
    if any(a == b for a, b in zip(roles, roles[1:], strict=False)):
        found.add("same_role_twice")
    if sharegpt:
        turns = raw_roles[1:] if raw_roles and raw_roles[0] == "system" else raw_roles
        for position, raw in enumerate(turns, start=1):
            side = _HUMAN_SIDE if position % 2 == 1 else _MODEL_SIDE
            if raw not in side:
                found.add("turn_order")
                break
    return [name for name in CHECKS if name in found]


def _empty(content: Any) -> bool:
    if content is None:
        return True
    if isinstance(content, str):
        return not content.strip()
    if isinstance(content, list):
        return not any(
            (isinstance(p, dict) and (p.get("text") or p.get("image_url") or p.get("type")))
            or (isinstance(p, str) and p.strip())
            for p in content
        )
    return False


def check_rows(
    ids: Sequence[int], values: Sequence[Any], *, sharegpt: bool = False
) -> dict[str, list[int]]:
    """Per check, the ids of the rows it flags (over_limit needs counts: see `check_chat`)."""
    out: dict[str, list[int]] = {name: [] for name in CHECKS}
    for row_id, value in zip(ids, values, strict=True):
        for name in _row_problems(value, sharegpt):
            out[name].append(int(row_id))
    return out


def check_chat(
    frame: pl.LazyFrame | pl.DataFrame,
    column: str | None,
    *,
    sharegpt: bool = False,
    counts: pl.DataFrame | None = None,
    limit: int | None = None,
) -> list[CheckResult]:
    """Every check on `column` (a messages or conversations column), in `CHECKS` order.

    With `counts` (from `tokens.count_tokens`) and a `limit`, rows longer than the limit are
    flagged `over_limit`. Without a chat column only `over_limit` can flag rows."""
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    found: dict[str, list[int]] = {name: [] for name in CHECKS}
    if column is not None:
        df = lazy.select(ID, column).collect()
        found = check_rows(df[ID].to_list(), df[column].to_list(), sharegpt=sharegpt)
    if counts is not None and limit:
        found["over_limit"] = counts.filter(pl.col(LENGTH) > limit)[ID].to_list()
    return [CheckResult(name, CHECKS[name], tuple(found[name])) for name in CHECKS]
