"""Session journal: the recipe is saved as steps are applied, so a crash or a dropped SSH
connection can resume exactly where the user was when the same input is opened again."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.engine.recipe import Recipe


def state_dir() -> Path:
    """Where journals live: $STUDIO_STATE_DIR, else $XDG_STATE_HOME/dataset-studio."""
    explicit = os.environ.get("STUDIO_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "dataset-studio"


def fingerprint(paths: list[str]) -> list[list[Any]]:
    out: list[list[Any]] = []
    for p in paths:
        try:
            st = Path(p).stat()
            out.append([str(Path(p).resolve()), st.st_size, st.st_mtime_ns])
        except OSError:
            out.append([str(p), None, None])
    return out


@dataclass
class Journal:
    paths: list[str]

    @property
    def file(self) -> Path:
        key = "\n".join(sorted(str(Path(p).resolve()) for p in self.paths))
        digest = hashlib.sha1(key.encode()).hexdigest()[:16]
        return state_dir() / "journal" / f"{digest}.recipe.json"

    def save(self, recipe: Recipe) -> None:
        """Write the journal (atomically); an empty recipe clears it."""
        if not recipe.steps:
            self.clear()
            return
        from studio.engine.io.writers import atomic_path

        data = recipe.to_json()
        data["journal"] = {"fingerprint": fingerprint(self.paths), "saved": time.time()}
        target = self.file
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as tmp:
            tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    def pending(self) -> Recipe | None:
        """The journalled recipe if there is one for these unchanged inputs."""
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        meta = data.get("journal") or {}
        if meta.get("fingerprint") != fingerprint(self.paths):
            return None
        try:
            recipe = Recipe.from_json(data)
        except Exception:  # a journal from another version is simply not offered
            return None
        return recipe if recipe.steps else None

    def clear(self) -> None:
        with contextlib.suppress(OSError):
            self.file.unlink()
