"""Gold files: typed, validated on load with file:line errors; the shipped files are valid."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel

from clausewatch.core.errors import InputError
from clausewatch.evals.catalogue_check import check_provision_ids
from clausewatch.evals.gold import GOLD_DIR, SPLITS, gold_file, load_jsonl
from clausewatch.schemas.evals import AnalysisCase, ChangeDetectionCase, RetrievalCase
from clausewatch.schemas.taxonomy import CATEGORIES

M = TypeVar("M", bound=BaseModel)

EXPECTED: dict[str, Any] = {
    "categories": ["data-retention"],
    "regulations": ["gdpr:5"],
    "exposure": "Low",
    "jurisdictions": ["EU/EEA"],
}
GOOD: dict[str, Any] = {
    "id": "x-1",
    "platform": "exampleco",
    "document_type": "privacy_policy",
    "clause": "We keep your chats for 30 days.",
    "expected": EXPECTED,
}


def _write(tmp_path: Path, rows: list[object]) -> Path:
    path = tmp_path / "gold.jsonl"
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n",
        encoding="utf-8",
    )
    return path


def test_valid_file_loads(tmp_path: Path) -> None:
    cases = load_jsonl(_write(tmp_path, [GOOD, "", {**GOOD, "id": "x-2"}]), AnalysisCase)
    assert [c.id for c in cases] == ["x-1", "x-2"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("{not json", "invalid JSON"),
        ({**GOOD, "expected": {**EXPECTED, "exposure": "Severe"}}, "expected.exposure"),
        (
            {**GOOD, "expected": {**EXPECTED, "categories": ["weather"]}},
            "expected.categories.0",
        ),
        ({**GOOD, "expected": {**EXPECTED, "jurisdictions": ["Mars"]}}, "Mars"),
        ({**GOOD, "clause": "   "}, "clause"),
        ({**GOOD, "surprise": 1}, "surprise"),
    ],
)
def test_bad_line_names_file_line_and_field(tmp_path: Path, row: object, message: str) -> None:
    path = _write(tmp_path, [GOOD, row])
    with pytest.raises(InputError) as err:
        load_jsonl(path, AnalysisCase)
    assert f"{path}:2:" in str(err.value)
    assert message in str(err.value)


def test_duplicate_ids_and_empty_files_are_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="duplicate id 'x-1'"):
        load_jsonl(_write(tmp_path, [GOOD, GOOD]), AnalysisCase)
    with pytest.raises(InputError, match="no cases"):
        load_jsonl(_write(tmp_path, [""]), AnalysisCase)
    with pytest.raises(InputError, match="not found"):
        load_jsonl(tmp_path / "missing.jsonl", AnalysisCase)


def test_unknown_provision_ids_are_reported_with_line(tmp_path: Path) -> None:
    bad = {**GOOD, "id": "x-2", "expected": {**EXPECTED, "regulations": ["gdpr:999"]}}
    path = _write(tmp_path, [GOOD, bad])
    cases = load_jsonl(path, AnalysisCase)
    with pytest.raises(InputError, match=r"gold\.jsonl:2: case 'x-2'.*gdpr:999"):
        check_provision_ids(path, ((c.id, c.expected.regulations) for c in cases))


def _both(name: str, model: type[M]) -> list[M]:
    cases: list[M] = []
    for split in SPLITS:
        cases += load_jsonl(gold_file(name, split), model)
    return cases


def test_shipped_analysis_gold_is_valid_and_broad() -> None:
    for split in SPLITS:
        path = gold_file("analysis", split)
        part = load_jsonl(path, AnalysisCase)
        check_provision_ids(path, ((c.id, c.expected.regulations) for c in part))
        assert len(part) >= 30, split
    cases = _both("analysis", AnalysisCase)
    assert len(cases) >= 40
    assert len({c.platform for c in cases}) >= 12
    covered = {slug for c in cases for slug in c.expected.categories}
    assert len(covered) >= 20
    assert covered <= set(CATEGORIES)
    assert {c.expected.exposure for c in cases} == {"Low", "Medium", "High"}


def _plain(text: str) -> str:
    text = re.sub(r"\]\([^)]*\)", "", text)  # link targets
    return " ".join(re.sub(r"[*_\[\]\\`]", "", text).split())


@pytest.mark.shared_data
def test_shipped_analysis_clauses_are_quoted_from_the_policies() -> None:
    from tests.conftest import SHARED_DATA

    for case in _both("analysis", AnalysisCase):
        assert case.source, case.id
        source = _plain((SHARED_DATA / case.source).read_text(encoding="utf-8"))
        words = _plain(case.clause).split()
        # every 8-word window of the clause is verbatim in the source (markdown aside)
        for i in range(0, max(1, len(words) - 8), 8):
            assert " ".join(words[i : i + 8]) in source, (case.id, words[i : i + 8])


def test_shipped_retrieval_and_change_gold_are_valid() -> None:
    for split in SPLITS:
        path = gold_file("regulation-retrieval", split)
        part = load_jsonl(path, RetrievalCase)
        check_provision_ids(path, ((q.id, q.expected) for q in part))
    queries = _both("regulation-retrieval", RetrievalCase)
    assert len(queries) >= 30
    docs = _both("change-detection", ChangeDetectionCase)
    assert len(docs) >= 20


def _group(name: str, raw: dict[str, object]) -> str:
    if name == "analysis":
        return str(raw["platform"])
    if name == "regulation-retrieval":
        return str(raw["source"]).split("/")[0]
    return str(raw["path"]).split("/")[0]


@pytest.mark.parametrize("name", ["analysis", "regulation-retrieval", "change-detection"])
def test_gold_splits_are_disjoint_by_platform(name: str) -> None:
    """No case and no platform is in both parts: tuning on dev says nothing about test."""
    import json

    parts = {
        split: [json.loads(line) for line in gold_file(name, split).read_text().splitlines()]
        for split in SPLITS
    }
    ids = [{r["id"] for r in rows} for rows in parts.values()]
    groups = [{_group(name, r) for r in rows} for rows in parts.values()]
    assert not ids[0] & ids[1]
    assert not groups[0] & groups[1]
    assert all(len(rows) >= 15 for rows in parts.values())
    assert not (GOLD_DIR / f"{name}.jsonl").exists()


# The test parts are frozen: nothing may be tuned on them, so they never change silently. If a
# case is wrong, fix it in a commit of its own that says so, and update the digest here.
FROZEN_TEST = {
    "analysis": "b947d7dd7aea892ba36e3af428c92db153d95ee1428cc4dfa03c9779b081d637",
    "regulation-retrieval": "57db74d41d27b33cda39875b250f3c8ae2eecec8bbc4264e5cc7f63f0d90c767",
    "change-detection": "b478bf55d2306343a29b2c8c1ac4c2c8f2b48304adaf2bfb34106806a6b8f3a2",
}


@pytest.mark.parametrize("name", sorted(FROZEN_TEST))
def test_test_splits_are_frozen(name: str) -> None:
    import hashlib

    digest = hashlib.sha256(gold_file(name, "test").read_bytes()).hexdigest()
    assert digest == FROZEN_TEST[name]


def test_unknown_split_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown split"):
        gold_file("analysis", "train")


def test_no_classifier_example_is_quoted_in_the_gold() -> None:
    """A classifier example sentence verbatim in a gold clause scores the classifier on its own
    training data (an-55 quoted one)."""
    from clausewatch.classifier.data import load_examples

    clauses = [" ".join(c.clause.split()).lower() for c in _both("analysis", AnalysisCase)]
    texts = load_examples().texts
    assert len(texts) > 100
    for text in texts:
        sentence = " ".join(str(text).split()).lower()
        if len(sentence.split()) >= 6:
            assert not any(sentence in clause for clause in clauses), sentence
