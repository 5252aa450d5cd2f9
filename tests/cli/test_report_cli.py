from __future__ import annotations

import json

from studio.cli import main


def _data(tmp_path):  # noqa: ANN001, ANN202
    path = tmp_path / "d.jsonl"
    words = ["alpha beta gamma", "delta epsilon zeta", "eta theta iota", "kappa lambda mu"]
    rows = [{"text": f"{words[i % 4]} {i}", "label": f"c{i % 4}"} for i in range(80)]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_report_json_markdown_and_html_agree(tmp_path, capsys) -> None:  # noqa: ANN001
    path = _data(tmp_path)
    assert main(["report", str(path), "--json", "--no-label-errors"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["figures"]["rows"] == 80 and data["figures"]["classes"] == 4
    assert data["recommendation"]["approach"] == "prompting"
    md = tmp_path / "r.md"
    assert main(["report", str(path), "-o", str(md), "--no-label-errors"]) == 0
    text = md.read_text()
    assert "| Rows | 80 |" in text and "## Recommendation" in text
    html = tmp_path / "r.html"
    assert main(["report", str(path), "-o", str(html), "--no-label-errors"]) == 0
    assert "<td>Rows</td><td>80</td>" in html.read_text()
    assert main(["report", str(path), "-o", str(md)]) == 1  # exists, no --force
    assert "already exists" in capsys.readouterr().err


def test_report_on_missing_file_is_one_line(tmp_path, capsys) -> None:  # noqa: ANN001
    assert main(["report", str(tmp_path / "nope.jsonl")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nope.jsonl" in err
