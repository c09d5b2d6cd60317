"""``clausewatch run --json``: stdout carries the JSON summary alone; progress and the
start-up line go to stderr, and the start-up line names the Prefect server in use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clausewatch.core.settings import SAMPLE_SOURCES
from tests.conftest import REPO

LIVE = SAMPLE_SOURCES.parent / "live"


@pytest.mark.slow
def test_run_json_prints_only_json_on_stdout(
    workspace: Path, tmp_path: Path, prefect_harness: str
) -> None:
    page = tmp_path / "privacy.html"
    page.write_bytes((LIVE / "helix-labs" / "privacy.html").read_bytes())
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "sources:\n  - platform: helix-labs\n    doc_type: privacy_policy\n"
        f"    url: {page.as_uri()}\n"
    )
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_harness,
        "PYTHONPATH": str(REPO),
        # no change to draft: an LLM that is never called (the fake one needs a script)
        "CLAUSEWATCH_LLM_BACKEND": "openai-compatible",
        "CLAUSEWATCH_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "CLAUSEWATCH_LLM_MODEL": "unused",
        "COLUMNS": "120",
    }
    done = subprocess.run(
        [sys.executable, "-m", "clausewatch", "run", "--json", "--sources", str(sources)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)  # nothing but the JSON
    assert summary["status"] == "ok" and summary["new_versions"] == 1
    assert f"Prefect server {prefect_harness}" in done.stderr
    assert "without PREFECT_API_URL" not in done.stderr
