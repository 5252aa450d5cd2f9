"""`studio serve` starts textual-serve on localhost and answers with the app's page."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from studio.commands.serve import app_command

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_answers_http_on_localhost(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"text": "hello"}) + "\n")
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "studio", "serve", str(data), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        page = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode())  # type: ignore[union-attr]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    assert response.status == 200
                    page = response.read().decode("utf-8")
                    break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert "Dataset Studio" in page
        assert "textual" in page.lower()
    finally:
        process.kill()
        process.wait(timeout=10)


def test_serve_command_runs_this_app(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    command = app_command(str(data))
    assert command.startswith(sys.executable.replace("'", "")) or sys.executable in command
    assert "-m studio" in command and str(data.resolve()) in command


def test_serve_rejects_a_missing_file(tmp_path: Path) -> None:
    from studio.cli import main

    assert main(["serve", str(tmp_path / "missing.jsonl")]) == 1
