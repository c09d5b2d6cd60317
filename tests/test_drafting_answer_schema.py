"""The per-call JSON Schema is derived from ``ModelAnswer`` plus the call's choices.

``data/answer_schemas.json`` holds what the hand-written builder (prompt v1.4) produced for
four calls: the derived schema must be the same document, key order included (it is part of
the LLM call's cache key and of the prompt the decoder turns into a grammar).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import jsonschema
import pytest
from pydantic import StringConstraints

from clausewatch.drafting.answer import KEYWORDS, ModelAnswer, build_answer_schema

CASES = json.loads((Path(__file__).parent / "data" / "answer_schemas.json").read_text())


def _build(arguments: dict[str, Any], **extra: Any) -> dict[str, Any]:
    args = dict(arguments)
    args["comparables"] = [tuple(c) for c in args["comparables"]]
    for key in ("categories", "playbook_ids"):
        if key in args:
            args[key] = tuple(args[key])
    return build_answer_schema(**args, **extra)


def _nodes(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [n for item in node for n in _nodes(item)]
    if not isinstance(node, dict):
        return []
    children = list(node.get("properties", {}).values()) + [
        node[k] for k in ("items", "anyOf") if k in node
    ]
    return [node, *_nodes(children)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_derived_schema_is_the_one_the_model_was_sent(name: str) -> None:
    case = CASES[name]
    derived = _build(case["arguments"])
    assert derived == case["schema"]
    assert json.dumps(derived) == json.dumps(case["schema"])  # same key order


@pytest.mark.parametrize("name", sorted(CASES))
def test_only_keywords_constrained_decoders_take(name: str) -> None:
    schema = _build(CASES[name]["arguments"])
    jsonschema.Draft202012Validator.check_schema(schema)
    for node in _nodes(schema):
        assert set(node) <= set(KEYWORDS), node
        if node.get("type") == "object":
            assert node["additionalProperties"] is False
            assert set(node["required"]) <= set(node["properties"])


def test_a_new_field_of_the_model_reaches_the_schema_from_its_declaration() -> None:
    class WithRisk(ModelAnswer):
        risk_note: Annotated[str, StringConstraints(min_length=1, max_length=90)]

    case = CASES["full"]
    schema = _build(case["arguments"], model=WithRisk)
    assert schema["properties"]["risk_note"] == {"type": "string", "minLength": 1, "maxLength": 90}
    assert schema["required"][-1] == "risk_note"
    without = {k: v for k, v in schema["properties"].items() if k != "risk_note"}
    assert without == case["schema"]["properties"]


def test_the_static_model_reads_whatever_the_schema_allows() -> None:
    """A document valid under the per-call schema parses as ``ModelAnswer``."""
    from tests.flows_support import answer_from_schema

    for case in CASES.values():
        schema = _build(case["arguments"])
        document = answer_from_schema(schema)
        jsonschema.validate(document, schema)
        ModelAnswer.model_validate(document)
