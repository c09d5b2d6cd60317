"""``clausewatch segment`` and ``clausewatch diff``: JSON contracts, report, bad input."""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

import pytest

from clausewatch.cli import main
from clausewatch.core.settings import reset_settings
from tests.conftest import POLICIES

CLAUDE = POLICIES / "claude-ai" / "privacy_policy"


def _run(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["clausewatch", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.mark.shared_data
def test_segment_json_contract(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run(["segment", str(CLAUDE / "2025-08-01.md"), "--json"], capsys, monkeypatch)
    assert code == 0
    clauses = json.loads(out)["clauses"]
    assert len(clauses) > 50
    assert set(clauses[0]) == {"id", "path", "text", "tokens"}
    assert all(isinstance(c["path"], list) and c["tokens"] > 0 for c in clauses)
    assert len({c["id"] for c in clauses}) == len(clauses)


@pytest.mark.shared_data
def test_diff_json_contract(
    workspace: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = tmp_path / "old.md"
    new = tmp_path / "new.md"
    old.write_text("# T\n\nWe keep logs for 30 days.\n\nContact us.\n", encoding="utf-8")
    new.write_text(
        "# T\n\nWe keep logs for 90 days.\n\nWe sell nothing to anyone.\n", encoding="utf-8"
    )
    code, out, _ = _run(["diff", str(old), f"file://{new}", "--json"], capsys, monkeypatch)
    assert code == 0
    changes = json.loads(out)["changes"]
    # reading order: a removed clause is reported where it used to be
    assert [c["kind"] for c in changes] == ["modified", "removed", "added"]
    modified, removed, added = changes
    assert set(modified["old"]) == {"id", "path", "text"} == set(modified["new"])
    assert modified["old"]["id"] == modified["new"]["id"]
    assert modified["word_diff"] == [
        {"op": "equal", "text": "We keep logs for"},
        {"op": "delete", "text": "30"},
        {"op": "insert", "text": "90"},
        {"op": "equal", "text": "days."},
    ]
    assert 0 < modified["similarity"] < 1
    assert added["old"] is None and added["new"]["text"] == "We sell nothing to anyone."
    assert removed["new"] is None and removed["old"]["path"] == ["T"]


@pytest.mark.shared_data
def test_diff_of_a_version_with_itself_and_readable_report(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    same = str(CLAUDE / "2025-08-01.md")
    code, out, _ = _run(["diff", same, same, "--json"], capsys, monkeypatch)
    assert code == 0 and json.loads(out) == {"changes": []}
    newer = str(CLAUDE / "2025-08-29.md")
    code, out, _ = _run(["diff", same, newer], capsys, monkeypatch)
    assert code == 0
    assert "MODIFIED" in out and "ADDED" in out and "REMOVED" in out
    # the header counts what the JSON report lists
    _, as_json, _ = _run(["diff", same, newer, "--json"], capsys, monkeypatch)
    kinds = [c["kind"] for c in json.loads(as_json)["changes"]]
    header = re.search(
        r"(\d+) added, (\d+) removed, (\d+) modified, (\d+) moved, (\d+) unchanged",
        " ".join(out.split()),
    )
    assert header is not None
    counts = [int(n) for n in header.groups()[:4]]
    assert counts == [kinds.count(k) for k in ("added", "removed", "modified", "moved")]


@pytest.mark.shared_data
def test_segment_report(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = _run(["segment", str(CLAUDE / "2025-08-01.md")], capsys, monkeypatch)
    assert code == 0
    assert "clauses" in out and "tokens" in out


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    files = {
        "missing": tmp_path / "missing.md",
        "empty": tmp_path / "empty.md",
        "binary": tmp_path / "junk.bin",
        "undecodable": tmp_path / "undecodable.md",
        "broken_pdf": tmp_path / "broken.pdf",
        "headings_only": tmp_path / "headings.md",
        "too_big": tmp_path / "big.md",
    }
    files["empty"].write_bytes(b"")
    rng = random.Random(1)
    files["binary"].write_bytes(bytes(rng.randrange(256) for _ in range(4000)))
    files["undecodable"].write_bytes(bytes(rng.randrange(0x80, 0x100) for _ in range(2000)))
    files["broken_pdf"].write_bytes(b"%PDF-1.4\n1 0 obj garbage\n%%EOF")
    files["headings_only"].write_text("# Title\n\n## Section\n", encoding="utf-8")
    files["too_big"].write_text("word " * 5000, encoding="utf-8")
    return files


@pytest.mark.parametrize(
    "case", ["missing", "empty", "binary", "undecodable", "broken_pdf", "headings_only", "too_big"]
)
@pytest.mark.parametrize("command", ["segment", "diff"])
def test_bad_input_fails_with_one_line_and_writes_nothing(
    case: str,
    command: str,
    workspace: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLAUSEWATCH_FETCH_MAX_BYTES", "10000")
    reset_settings()
    bad = str(_bad_inputs(tmp_path)[case])
    good_file = tmp_path / "good.md"
    good_file.write_text("# Terms\n\nWe keep logs for 30 days.\n", encoding="utf-8")
    good = str(good_file)
    args = ["segment", bad, "--json"] if command == "segment" else ["diff", good, bad, "--json"]
    before = sorted(p.name for p in tmp_path.iterdir())
    code, out, err = _run(args, capsys, monkeypatch)
    assert code != 0
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_diff_reads_urls_and_html(
    workspace: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.archive_helpers import Reply, http_server

    monkeypatch.setenv("CLAUSEWATCH_ALLOW_PRIVATE_ADDRESSES", "true")
    reset_settings()
    old = tmp_path / "old.md"
    old.write_text("# Terms\n\nWe may share your data.\n\nContact us.\n", encoding="utf-8")
    html = (
        b"<html><body><h1>Terms</h1><p>We will share your data.</p>"
        b"<p>Contact <b>us</b>.</p></body></html>"
    )
    with http_server() as server:
        server.routes["/terms"] = Reply(200, html, {"Content-Type": "text/html; charset=utf-8"})
        server.routes["/gone"] = Reply(404, b"no")
        code, out, _ = _run(["diff", str(old), server.url("/terms"), "--json"], capsys, monkeypatch)
        assert code == 0
        changes = json.loads(out)["changes"]
        assert [(c["kind"], c["new"]["text"]) for c in changes] == [
            ("modified", "We will share your data.")
        ]
        code, out, err = _run(["diff", str(old), server.url("/gone")], capsys, monkeypatch)
        assert code != 0 and out == "" and err.startswith("error: ")


def test_report_without_colours_marks_words_like_git(
    workspace: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old = tmp_path / "old.md"
    new = tmp_path / "new.md"
    old.write_text("# T\n\nWe keep logs for 30 days.\n", encoding="utf-8")
    new.write_text("# T\n\nWe keep logs for 90 days.\n", encoding="utf-8")
    code, out, _ = _run(["diff", str(old), str(new)], capsys, monkeypatch)
    assert code == 0
    assert "We keep logs for [-30-] {+90+} days." in out
    assert "1 modified" in out
