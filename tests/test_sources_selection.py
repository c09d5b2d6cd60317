"""Selecting declarations without copying files: bundled lists by name, users' files next
to them, CLAUSEWATCH_SOURCES; ``sources list`` and ``sources validate``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from clausewatch.archive.declarations import validate_sources
from clausewatch.archive.selection import (
    bundled_lists,
    configured_refs,
    history_dirs,
    load_selection,
    validate_selection,
)
from clausewatch.cli import app
from clausewatch.core.errors import ConfigError
from clausewatch.core.settings import SAMPLE_SOURCES, reset_settings

AI = "ai-platforms"


@pytest.fixture(autouse=True)
def _no_configured_sources(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("CLAUSEWATCH_SOURCES", raising=False)
    monkeypatch.delenv("CLAUSEWATCH_SOURCES_FILE", raising=False)
    reset_settings()
    yield
    reset_settings()


def test_bundled_ai_platforms_list() -> None:
    sources = load_selection([AI])
    assert len(sources) == 155
    assert len({s.platform for s in sources}) == 53
    assert sum(1 for s in sources if s.needs_render) == 83
    assert sum(1 for s in sources if s.parts) == 14
    assert len({s.key for s in sources}) == 155  # unique document ids
    by_key = {s.key: s for s in sources}
    chatgpt = by_key["chatgpt/acceptable_use_policy"]
    assert len(chatgpt.parts) == 4 and all(p.render for p in chatgpt.parts)
    assert by_key["mistral-ai/terms_of_service"].url == "https://mistral.ai/terms/"
    assert by_key["xai/privacy_policy"].parts[1].url.endswith("europe-privacy-policy-addendum")
    assert {"commercial_terms", "cookie_policy", "dpa", "developer_terms"} <= {
        s.doc_type for s in sources
    }


def test_sources_list_json() -> None:
    result = CliRunner().invoke(app, ["sources", "list", "--json"])
    assert result.exit_code == 0, result.output
    lists = {row["name"]: row for row in json.loads(result.output)["lists"]}
    assert lists[AI] == {"name": AI, "services": 53, "documents": 155}
    assert lists["sample"] == {"name": "sample", "services": 3, "documents": 6}
    table = CliRunner().invoke(app, ["sources", "list"])
    assert table.exit_code == 0 and AI in table.output and "83" in table.output


def test_validate_bundled_list_and_unknown_name() -> None:
    ok = CliRunner().invoke(app, ["sources", "validate", AI])
    assert ok.exit_code == 0, ok.output
    assert "155 source(s) of 53 platform(s), no problems" in ok.output
    bad = CliRunner().invoke(app, ["sources", "validate", "no-such-list"])
    assert bad.exit_code != 0 and "bundled lists: ai-platforms, sample" in bad.output


MINE = """\
sources:
  - platform: chatgpt            # the bundled URL moved: mine replaces it
    doc_type: privacy_policy
    url: https://openai.example/privacy
  - platform: in-house-llm       # a platform the bundled list does not have
    doc_type: terms_of_service
    url: https://llm.example/terms
"""


def test_own_declarations_next_to_a_bundled_list(tmp_path: Path) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(MINE, encoding="utf-8")
    selection = validate_selection([AI, str(mine)])
    assert selection.problems == []
    assert len(selection.sources) == 156
    keys = [s.key for s in selection.sources]
    assert keys[-1] == "in-house-llm/terms_of_service"
    chatgpt = next(s for s in selection.sources if s.key == "chatgpt/privacy_policy")
    assert chatgpt.url == "https://openai.example/privacy" and chatgpt.parts == []
    assert keys.index("chatgpt/privacy_policy") < keys.index("chatgpt/developer_terms")
    assert [o.split(":")[0] for o in selection.overrides] == ["chatgpt/privacy_policy"]
    result = CliRunner().invoke(app, ["sources", "validate", AI, str(mine)])
    assert result.exit_code == 0, result.output
    assert "override: chatgpt/privacy_policy" in result.output


def test_configured_selection(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert configured_refs() == ["sample"]
    mine = tmp_path / "mine.yaml"
    mine.write_text(MINE, encoding="utf-8")
    monkeypatch.setenv("CLAUSEWATCH_SOURCES_FILE", str(mine))
    reset_settings()
    assert configured_refs() == [str(mine)]
    monkeypatch.setenv("CLAUSEWATCH_SOURCES", f"{AI}, {mine}")
    reset_settings()
    assert configured_refs() == [AI, str(mine)]
    assert len(load_selection()) == 156
    assert set(bundled_lists()) >= {AI, "sample"}


def test_history_is_an_option_of_the_declarations(tmp_path: Path) -> None:
    """The sample brings its earlier versions through its ``history:`` option, as any
    declarations file may; a run imports them before it fetches."""
    sample_history = SAMPLE_SOURCES.parent / "history"
    assert history_dirs(["sample"]) == [sample_history.resolve()]
    assert history_dirs([str(SAMPLE_SOURCES)]) == [sample_history.resolve()]
    assert history_dirs([AI]) == []
    (tmp_path / "old" / "acme" / "privacy_policy").mkdir(parents=True)
    mine = tmp_path / "mine.yaml"
    mine.write_text("history: old\n" + MINE, encoding="utf-8")
    assert validate_sources(mine)[1] == []
    assert history_dirs([AI, str(mine), "sample"]) == [
        (tmp_path / "old").resolve(),
        sample_history.resolve(),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("missing", "history folder not found"),
        ("/", "outside the file root"),
        ("[1, 2]", "must be the path of a folder"),
    ],
)
def test_a_wrong_history_option_is_a_problem(tmp_path: Path, value: str, message: str) -> None:
    mine = tmp_path / "mine.yaml"
    mine.write_text(f"history: {value}\n" + MINE, encoding="utf-8")
    problems = validate_sources(mine)[1]
    assert [(p.line, message in p.message) for p in problems] == [(1, True)]
    with pytest.raises(ConfigError, match=message):
        history_dirs([str(mine)])


def test_unknown_reference_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no bundled list or declarations file 'nope'"):
        load_selection(["nope"])


def test_run_and_schedule_pass_the_selection(
    monkeypatch: pytest.MonkeyPatch, workspace: Path, tmp_path: Path
) -> None:
    """``clausewatch run --sources ai-platforms --sources mine.yaml`` hands both to the flow,
    whose load task combines them."""
    import clausewatch.flows.monitor
    from clausewatch.flows import tasks
    from clausewatch.schemas.runs import RunSummary

    mine = tmp_path / "mine.yaml"
    mine.write_text(MINE, encoding="utf-8")
    seen: dict[str, Any] = {}

    def fake_flow(**kwargs: Any) -> RunSummary:
        seen.update(kwargs)
        return RunSummary(run_id=1, status="ok")

    monkeypatch.setattr(clausewatch.flows.monitor, "run_monitor", fake_flow)  # what `run` calls
    result = CliRunner().invoke(app, ["run", "--sources", AI, "--sources", str(mine), "--json"])
    assert result.exit_code == 0, result.output
    assert seen["sources"] == [AI, str(mine)]
    loaded = tasks.load_sources.fn(seen["sources"])
    assert len(loaded) == 156 and loaded[-1]["platform"] == "in-house-llm"
