"""`studio report` lists the likely label errors the Quality pane lists (row, given, predicted,
self-confidence, margin, text) and spells out the recommendation, what would change it and the
data preparation."""

from __future__ import annotations

import json

from studio.cli import main
from studio.engine.report import SUSPECTS_TITLE
from tests.tui.test_quality_relabel import FLIPPED, noisy


def test_markdown_and_html_list_the_suspects_and_the_recommendation(tmp_path, capsys) -> None:  # noqa: ANN001
    path = noisy(tmp_path)
    assert main(["report", str(path)]) == 0
    md = capsys.readouterr().out
    assert f"### {SUSPECTS_TITLE}" in md
    assert "| row | given | predicted | self_confidence | margin | text |" in md
    lines = md.splitlines()
    flipped = [ln for ln in lines if ln.startswith(tuple(f"| {i} |" for i in FLIPPED))]
    assert len(flipped) == 2 and all("| the " in ln for ln in flipped)
    assert "## Recommendation" in md and "### What would change it" in md
    out = tmp_path / "r.html"
    assert main(["report", str(path), "-o", str(out)]) == 0
    page = out.read_text()
    assert f"<h3>{SUSPECTS_TITLE}</h3>" in page and "<h3>What would change it</h3>" in page
    assert main(["report", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    labels = next(s for s in data["sections"] if s["title"] == "Labels")
    assert {r["row"] for r in labels["table"]} >= set(FLIPPED)
