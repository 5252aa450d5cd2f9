"""Cell text is data: turn any value from a dataset into a safe `rich.text.Text`.

Nothing in a value is ever interpreted:

- Rich markup (`[bold]`, `[link=...]`) is shown literally: text is built with `Text(...)`,
  never `Text.from_markup`.
- Control characters are replaced by visible stand-ins, styled so they stand out from data:
  C0 controls (U+0000-U+001F) by their Unicode Control Pictures (ESC -> `␛`, BEL -> `␇`,
  NUL -> `␀`, CR -> `␍`) and DEL by `␡`; C1 controls (U+0080-U+009F, e.g. the 8-bit CSI
  U+009B), bidirectional overrides/isolates, line/paragraph separators and the BOM by a
  `\\xNN` / `\\uNNNN` escape. So `"\\x1b[31mred"` shows as `␛[31mred` and no escape sequence
  (CSI, OSC, ...) ever reaches the terminal.
- In one-line mode (table cells) a newline shows as `⏎` and a tab as `⇥`; in multi-line mode
  (row detail) newlines are kept and tabs expanded.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text

NEWLINE_MARK = "⏎"
TAB_MARK = "⇥"
ESCAPE_STYLE = Style(reverse=True)
"""How a replaced control character is drawn (a plain attribute, so it works in any theme)."""
MARK_STYLE = Style(dim=True)
"""How the one-line stand-ins for newline and tab are drawn."""

# characters that are never written to the terminal as themselves
_ALWAYS = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (except \t \n), DEL, C1
    "\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidi marks, embeddings, overrides, isolates
    "\u2028\u2029\ufeff"  # line/paragraph separators, BOM
)
_UNSAFE_MULTI = re.compile(f"[{_ALWAYS}]")
_UNSAFE_ONE_LINE = re.compile(f"[{_ALWAYS}\t\n]")


def escape_char(char: str, *, one_line: bool = True) -> str:
    """The visible stand-in for one unsafe character."""
    code = ord(char)
    if char == "\n":
        return NEWLINE_MARK if one_line else "\n"
    if char == "\t":
        return TAB_MARK if one_line else "\t"
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def to_str(value: Any) -> str:
    """A value as plain (unescaped) text: strings as-is, None as "", nested values as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


CONVERSATION_KEYS = (("role", "content"), ("from", "value"))
"""(speaker, text) key pairs of conversation turns: OpenAI chat and ShareGPT."""


def conversation_keys(value: Any) -> tuple[str, str] | None:
    """The (speaker, text) keys if `value` is a non-empty list of conversation turns."""
    if not isinstance(value, list) or not value:
        return None
    for speaker, text in CONVERSATION_KEYS:
        if all(isinstance(t, dict) and speaker in t and text in t for t in value):
            return speaker, text
    return None


def cell_str(value: Any) -> str:
    """A value as one table cell: like `to_str`, but conversations read as `role: text ▸ …`."""
    keys = conversation_keys(value)
    if keys is None:
        return to_str(value)
    speaker, text = keys
    return " ▸ ".join(f"{to_str(t[speaker])}: {to_str(t[text])}" for t in value)


def safe_str(value: Any, *, max_chars: int | None = None) -> str:
    """Plain text with every unsafe character replaced (for notifications and titles)."""
    text = to_str(value)
    if max_chars is not None and len(text) > max_chars:
        text = text[: max(max_chars - 1, 0)] + "…"
    return _UNSAFE_ONE_LINE.sub(lambda m: escape_char(m.group()), text)


def safe_text(
    value: Any,
    *,
    one_line: bool = True,
    width: int | None = None,
    highlight: re.Pattern[str] | None = None,
    highlight_style: Style | str = "reverse",
    style: Style | str = "",
    conversation: bool = False,
) -> Text:
    """A `Text` showing `value` literally, with unsafe characters made visible.

    `width` (one-line mode): cut to that many cells with an ellipsis. `highlight`: a
    pattern whose matches in the shown text get `highlight_style`. `conversation`: show
    chat turns as `role: text ▸ ...` (table cells).
    """
    raw = cell_str(value) if conversation else to_str(value)
    if width is not None and one_line:
        # never escape or measure more than a few screens of a huge cell
        raw = raw[: max(width * 4, 64)]
    pattern = _UNSAFE_ONE_LINE if one_line else _UNSAFE_MULTI
    text = Text(style=style, no_wrap=one_line, end="")
    if pattern.search(raw) is None:
        text.append(raw)
    else:
        start = 0
        for match in pattern.finditer(raw):
            if match.start() > start:
                text.append(raw[start : match.start()])
            char = match.group()
            shown = escape_char(char, one_line=one_line)
            text.append(shown, MARK_STYLE if char in "\n\t" else ESCAPE_STYLE)
            start = match.end()
        if start < len(raw):
            text.append(raw[start:])
    if not one_line:
        text.expand_tabs(4)
    if highlight is not None:
        stylize_matches(text, highlight, highlight_style)
    if width is not None and one_line:
        text.truncate(width, overflow="ellipsis", pad=True)
    return text


def fit_plain(raw: str, width: int) -> str | None:
    """`raw` cut or padded to exactly `width` cells (ellipsis when cut), or None when it
    holds a character that needs escaping (then use `safe_text`). The table's fast path."""
    if _UNSAFE_ONE_LINE.search(raw) is not None:
        return None
    if raw.isascii():
        if len(raw) <= width:
            return raw.ljust(width)
        return raw[: max(width - 1, 0)] + "…"
    length = cell_len(raw)
    if length <= width:
        return raw + " " * (width - length)
    return set_cell_size(raw, max(width - 1, 0)) + "…"


def stylize_matches(text: Text, pattern: re.Pattern[str], style: Style | str) -> int:
    """Style every non-empty match of `pattern` in `text` (group names are NOT styles)."""
    count = 0
    plain = text.plain
    for match in pattern.finditer(plain):
        if match.end() > match.start():
            text.stylize(style, match.start(), match.end())
            count += 1
    return count
