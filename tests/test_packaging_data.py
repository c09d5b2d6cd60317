"""The wheel carries the data directories that have no __init__.py: the bundled source lists
(``clausewatch run --sources ai-platforms`` from an installed package) and the sample."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_wheel_has_bundled_lists_and_sample(tmp_path: Path) -> None:
    # build from a copy of the tracked sources so the work tree gets no build/ or egg-info
    src = tmp_path / "src"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        target = src / name
        if (REPO / name).is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((REPO / name).read_bytes())
    out = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert build.returncode == 0, build.stderr[-2000:]
    (wheel,) = out.glob("clausewatch-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "clausewatch/watchlists/ai-platforms.yaml",
        "clausewatch/sample/sources.yaml",
        "clausewatch/sample/README.md",
        *(
            str(p.relative_to(REPO))
            for p in (REPO / "clausewatch" / "sample").rglob("*")
            if p.is_file() and p.suffix in (".md", ".html", ".yaml")
        ),
    }
    assert expected <= names, sorted(expected - names)
