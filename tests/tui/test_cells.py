"""Cell text is data: markup shown literally, control characters made visible."""

from __future__ import annotations

import re

import pytest
from rich.console import Console

from studio.tui.cells import cell_str, safe_str, safe_text

CONSOLE = Console(width=200, color_system="truecolor", force_terminal=True)


def rendered(text) -> str:  # noqa: ANN001
    """What Rich would write to a terminal for this Text."""
    with CONSOLE.capture() as capture:
        CONSOLE.print(text, end="")
    return capture.get()


@pytest.mark.parametrize(
    "value",
    ["[bold]x[/bold]", "[link=http://x]y[/link]", "[red]r[/]", "[/]", "[@click=app.quit]q[/]"],
)
def test_markup_is_shown_literally(value: str) -> None:
    text = safe_text(value)
    assert text.plain == value
    assert text.spans == []
    assert "\x1b]8;" not in rendered(text)  # no hyperlink was emitted


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "␛[31mred␛[0m"),
        ("bell\x07", "bell␇"),
        ("nul\x00", "nul␀"),
        ("osc\x1b]52;c;aGk=\x07", "osc␛]52;c;aGk=␇"),
        ("del\x7f", "del␡"),
        ("c1\x9b31m", "c1\\x9b31m"),
        ("nel\x85", "nel\\x85"),
        ("bidi\u202egnp.exe", "bidi\\u202egnp.exe"),
        ("cr\rlf", "cr␍lf"),
        ("a\nb\tc", "a⏎b⇥c"),
    ],
)
def test_control_characters_become_visible(value: str, shown: str) -> None:
    text = safe_text(value)
    assert text.plain == shown
    out = rendered(text)
    # only the SGR styling Rich adds remains: no raw control character from the data
    data_only = re.sub(r"\x1b\[[0-9;]*m", "", out)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", data_only)
    assert safe_str(value) == shown


def test_multi_line_keeps_newlines_and_expands_tabs() -> None:
    text = safe_text("a\nb\tc\x1b", one_line=False)
    assert text.plain == "a\nb   c␛"


def test_width_cuts_with_ellipsis_and_pads() -> None:
    text = safe_text("x" * 1000, width=10)
    assert text.plain == "x" * 9 + "…"
    assert safe_text("ab", width=5).plain == "ab   "
    assert safe_text("界" * 20, width=9).cell_len == 9


def test_highlight_styles_matches_without_group_styles() -> None:
    text = safe_text("hello world", highlight=re.compile(r"(?P<blink>o)"), highlight_style="bold")
    assert [(s.start, s.end, str(s.style)) for s in text.spans] == [(4, 5, "bold"), (7, 8, "bold")]


def test_values_of_every_kind() -> None:
    assert safe_text(None).plain == ""
    assert safe_text(12).plain == "12"
    assert safe_text({"a": "[b]"}).plain == '{"a": "[b]"}'
    turns = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]
    assert cell_str(turns) == "user: hi ▸ assistant: yo"
    assert safe_text(turns, conversation=True).plain == "user: hi ▸ assistant: yo"
    gpt = [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]
    assert cell_str(gpt) == "human: q ▸ gpt: a"
    assert safe_str("x" * 50, max_chars=10) == "x" * 9 + "…"
