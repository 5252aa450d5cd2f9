"""Themes as data files: bundled, user folder, --theme, palette switching."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.engine.errors import StudioError
from studio.tui.app import StudioApp
from studio.tui.themes import bundled_dirs, load_themes, resolve_theme_name

REPO_THEMES = Path(__file__).resolve().parents[2] / "themes"


@pytest.fixture(autouse=True)
def _no_user_themes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


def test_bundled_themes_are_found() -> None:
    assert REPO_THEMES in bundled_dirs()
    found = load_themes()
    assert found.problems == []
    assert {"studio-dark", "studio-light", "studio-contrast"} <= set(found.themes)
    assert found.themes["studio-dark"].dark is True
    assert found.themes["studio-light"].dark is False
    assert found.labels["studio-light"] == "Light"


def test_contrast_theme_uses_only_ansi_colour_names() -> None:
    data = json.loads((REPO_THEMES / "studio-contrast.json").read_text())
    theme = load_themes().themes["studio-contrast"]
    assert theme.ansi is True
    colours = [
        v
        for k, v in data.items()
        if k not in ("name", "label", "comment", "dark", "ansi", "variables")
    ]
    colours += [v.split()[0] for k, v in data["variables"].items() if not k.endswith("text-style")]
    assert colours and all(c.startswith("ansi_") for c in colours), colours


def test_user_themes_are_added_and_broken_ones_reported(_no_user_themes: Path) -> None:
    folder = _no_user_themes / "dataset-studio" / "themes"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text(
        'name = "mine"\nlabel = "Mine"\nprimary = "#aa5500"\ndark = true\n[variables]\n'
        '"footer-key-foreground" = "#aa5500"\n'
    )
    (folder / "broken.json").write_text('{"name": "broken", "primary": "not a colour"}')
    (folder / "odd.json").write_text('{"name": "odd", "primary": "#000000", "colour": "red"}')
    found = load_themes()
    assert found.themes["mine"].primary == "#aa5500"
    assert found.labels["mine"] == "Mine"
    assert "broken" not in found.themes and "odd" not in found.themes
    assert len(found.problems) == 2
    assert any("broken.json" in p for p in found.problems)
    assert any("unknown field(s) colour" in p for p in found.problems)


def test_resolve_theme_name() -> None:
    themes = load_themes().themes
    assert resolve_theme_name("light", themes) == "studio-light"
    assert resolve_theme_name("studio-dark", themes) == "studio-dark"
    with pytest.raises(StudioError, match="Unknown theme 'pink'; available themes: "):
        resolve_theme_name("pink", themes)


async def test_theme_option_and_palette_switch(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "a"}\n')
    app = StudioApp([str(path)], theme_name="contrast")
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.theme == "studio-contrast"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"theme: light")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert app.theme == "studio-light"


async def test_default_theme_is_studio_dark(tmp_path: Path) -> None:
    app = StudioApp([], start_folder=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "studio-dark"
