"""The shipped regulation catalogue: coverage, ids, titles checked against the real texts, and
obligations written in our own words (no long verbatim overlap with the legal text)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from clausewatch.core.errors import ConfigError
from clausewatch.regulations.catalogue import citation, exists, load_catalogue, search_text
from clausewatch.schemas.taxonomy import CATEGORIES
from tests.conftest import SHARED_DATA

REGS = SHARED_DATA / "regulations"

REQUIRED: dict[str, list[int] | list[str]] = {
    "gdpr": [
        4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 25, 26, 28, 30,
        32, 33, 34, 35, 36, 37, 44, 45, 46, 47, 48, 49, 77, 79, 80, 82, 83,
    ],
    "uk-gdpr": [8, 45, 46],
    "ccpa": [
        "1798.100", "1798.105", "1798.106", "1798.110", "1798.115", "1798.120", "1798.121",
        "1798.125", "1798.130", "1798.135", "1798.140", "1798.145", "1798.150", "1798.185",
    ],
    "ccpa-regs": [7011, 7012, 7025, 7050, 7051, 7150, 7200, 7220, 7221],
    "eu-ai-act": [4, 5, 6, 26, 50, 53, 54, 55],
    "eprivacy": [5, 6, 9, 13],
    "coppa": ["312.2", "312.3", "312.4", "312.5", "312.6", "312.7", "312.8", "312.9", "312.10"],
}  # fmt: skip


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def _official() -> dict[str, tuple[str, str]]:
    """provision id -> (official title, official text) from shared/data/regulations."""
    out: dict[str, tuple[str, str]] = {}
    for row in json.loads((REGS / "gdpr" / "articles.json").read_text()):
        out[f"gdpr:{row['article']}"] = (row["title"], row["text"])
    sources = [
        ("eu-ai-act", REGS / "eu_ai_act" / "articles.json", "article_title", "article"),
        ("eprivacy", REGS / "eprivacy_directive" / "articles.json", "article_title", "article"),
        ("ccpa", REGS / "ccpa_cpra" / "statute.json", "title", "section"),
        ("ccpa-regs", REGS / "ccpa_cpra" / "regulations_11ccr.json", "title", "section"),
    ]
    for reg, path, title_key, num_key in sources:
        for row in json.loads(path.read_text()):
            meta = row["meta"]
            number = str(meta.get(num_key) or "")
            if reg == "ccpa":
                number = meta["citation"].split("§")[-1].strip()
            out[f"{reg}:{number}"] = (str(meta.get(title_key) or ""), row["text"])
    return out


def test_catalogue_loads_and_covers_the_required_provisions() -> None:
    cat = load_catalogue()
    assert len(cat) >= 120
    for reg, numbers in REQUIRED.items():
        for n in numbers:
            assert exists(f"{reg}:{n}"), f"{reg}:{n} missing"
    assert not exists("gdpr:999")
    assert not exists("GDPR Art. 28")


def test_entries_are_well_formed() -> None:
    for pid, prov in load_catalogue().items():
        assert pid == prov.id
        assert prov.regulation == pid.split(":")[0]
        assert set(prov.topics) <= set(CATEGORIES)
        assert prov.jurisdictions
        assert 15 <= len(prov.obligations.split()) <= 120, pid
        assert citation(prov) in search_text(prov)


@pytest.mark.shared_data
def test_titles_match_the_official_texts() -> None:
    official = _official()
    checked = 0
    for pid, prov in load_catalogue().items():
        if pid not in official or not official[pid][0] or official[pid][0] == "None":
            continue
        ours, theirs = _norm(prov.title), _norm(official[pid][0])
        # some official headings are cut at a line break in the source data
        assert ours == theirs or ours.startswith(theirs), f"{pid}: {prov.title!r} vs {theirs!r}"
        checked += 1
    assert checked >= 100


@pytest.mark.shared_data
def test_ids_exist_in_the_official_texts() -> None:
    official = _official()
    for pid in load_catalogue():
        if pid.split(":")[0] in {"gdpr", "eu-ai-act", "eprivacy", "ccpa", "ccpa-regs"}:
            assert pid in official, f"{pid} is not an article/section of the real text"


@pytest.mark.shared_data
def test_obligations_are_written_in_our_words() -> None:
    """No run of 10 words of an obligation appears verbatim in the official article text
    (statutory link names such as "Do Not Sell or Share My Personal Information" are 8-9 words)."""
    official = _official()
    n = 10
    for pid, prov in load_catalogue().items():
        if pid not in official:
            continue
        words = _norm(prov.obligations).split()
        theirs = " " + _norm(official[pid][1]) + " "
        for i in range(len(words) - n + 1):
            gram = " ".join(words[i : i + n])
            assert f" {gram} " not in theirs, f"{pid}: copied phrase {gram!r}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("regulation: gdpr\nprovisions: [", "invalid YAML"),
        ("regulation: nope\nprovisions: []", "unknown regulation"),
        (
            "regulation: gdpr\nprovisions:\n  - {id: 'ccpa:1', title: T, obligations: "
            "'one two three four five six seven eight nine'}",
            "bad provision id",
        ),
        (
            "regulation: gdpr\nprovisions:\n  - {id: 'gdpr:1', title: T, topics: [weather], "
            "obligations: 'one two three four five six seven eight nine'}",
            "unknown topics",
        ),
        (
            "regulation: gdpr\nprovisions:\n"
            "  - {id: 'gdpr:1', title: T, obligations: 'one two three four five six seven eight'}\n"
            "  - {id: 'gdpr:1', title: T, obligations: 'one two three four five six seven eight'}",
            "duplicate",
        ),
    ],
)
def test_broken_catalogue_files_are_config_errors(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "x.yaml").write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_catalogue(tmp_path)


def test_an_empty_catalogue_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        load_catalogue(tmp_path)
