"""Themes as data: JSON or TOML files turned into `textual.theme.Theme`s.

Bundled themes live in the repository's `themes/` folder (found next to the package in an
editable install or a checkout), or under `<prefix>/share/dataset-studio/themes` when the
package is installed with its data files; `$STUDIO_THEMES_DIR` overrides the bundled folder.
User themes in `$XDG_CONFIG_HOME/dataset-studio/themes/` (default `~/.config/...`) are added
on top and may replace a bundled theme of the same name.

A theme file holds the fields of `textual.theme.Theme` (`name`, `primary`, `dark`,
`variables`, `ansi`, ...) plus an optional `label` used in the command palette.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from textual.theme import Theme

from studio.engine.errors import StudioError

DEFAULT_THEME = "studio-dark"
SUFFIXES = (".json", ".toml")
_THEME_FIELDS = {f.name for f in fields(Theme)}


@dataclass
class ThemeSet:
    themes: dict[str, Theme] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """One sentence per theme file that could not be read (shown as a warning)."""


def bundled_dirs() -> list[Path]:
    explicit = os.environ.get("STUDIO_THEMES_DIR")
    if explicit:
        return [Path(explicit)]
    package_root = Path(__file__).resolve().parents[2]  # repo root in a checkout/editable
    candidates = [
        package_root / "themes",
        Path(__file__).resolve().parents[1] / "themes",  # shipped inside the package
        Path(sys.prefix) / "share" / "dataset-studio" / "themes",
    ]
    return [p for p in candidates if p.is_dir()]


def user_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dataset-studio" / "themes"


def label_of(name: str) -> str:
    return name.removeprefix("studio-").replace("-", " ").replace("_", " ").title()


def theme_from_data(data: Any, *, default_name: str) -> tuple[Theme, str]:
    """Build a Theme from a parsed file; raises StudioError with a plain reason."""
    if not isinstance(data, dict):
        raise StudioError("expected a table/object of theme fields")
    data = dict(data)
    label = str(data.pop("label", "") or "")
    data.pop("comment", None)
    data.setdefault("name", default_name)
    unknown = sorted(set(data) - _THEME_FIELDS)
    if unknown:
        raise StudioError(f"unknown field(s) {', '.join(unknown)}")
    if "primary" not in data:
        raise StudioError("the 'primary' colour is required")
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise StudioError("'variables' must be a table/object")
    data["variables"] = {str(k): str(v) for k, v in variables.items()}
    try:
        theme = Theme(**data)
        theme.to_color_system()  # checks every colour parses
    except Exception as exc:  # noqa: BLE001 - any bad value is one sentence for the user
        raise StudioError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
    return theme, label or label_of(theme.name)


def read_theme_file(path: Path) -> tuple[Theme, str]:
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StudioError(f"theme file {path}: {exc}") from exc
    try:
        return theme_from_data(data, default_name=path.stem)
    except StudioError as exc:
        raise StudioError(f"theme file {path}: {exc}") from exc


def load_themes(dirs: list[Path] | None = None) -> ThemeSet:
    """Every theme from the bundled folders, then the user's folder (later files win)."""
    found = ThemeSet()
    search = (bundled_dirs() if dirs is None else list(dirs)) + [user_dir()]
    for folder in search:
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            try:
                theme, label = read_theme_file(path)
            except StudioError as exc:
                found.problems.append(str(exc))
                continue
            found.themes[theme.name] = theme
            found.labels[theme.name] = label
    return found


def resolve_theme_name(name: str, available: dict[str, Theme]) -> str:
    """Accept a theme name as given, or without the `studio-` prefix; otherwise one sentence."""
    for candidate in (name, f"studio-{name}"):
        if candidate in available:
            return candidate
    names = ", ".join(sorted(available))
    raise StudioError(f"Unknown theme {name!r}; available themes: {names}.")
