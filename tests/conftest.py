"""Shared fixtures. Tests build their own small data; nothing here reads ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_state(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Journals and caches go to a per-test folder, never the user's home."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("STUDIO_STATE_DIR", str(state))
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(state / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def write_file(tmp_path: Path):  # noqa: ANN201
    """write_file(name, text_or_bytes) -> Path inside the test's temp folder."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
