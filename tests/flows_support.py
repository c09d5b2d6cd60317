"""A schema-driven scripted answer for flow tests: the smallest JSON a JSON Schema accepts,
filled with readable text. It lets a fake LLM answer any per-call drafting schema."""

from __future__ import annotations

from typing import Any

from clausewatch.llm.base import LLMRequest


def answer_from_schema(schema: dict[str, Any], name: str = "answer") -> Any:
    if "anyOf" in schema:
        return answer_from_schema(schema["anyOf"][0], name)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object":
        props: dict[str, Any] = schema.get("properties", {})
        return {k: answer_from_schema(v, k) for k, v in props.items()}
    if kind == "array":
        n = int(schema.get("minItems", 0))
        if n == 0 and schema.get("maxItems", 1) > 0 and name == "compliance_considerations":
            n = 1
        return [answer_from_schema(schema["items"], name) for _ in range(n)]
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return False
    text = f"Scripted {name.replace('_', ' ')}."
    return text[: int(schema.get("maxLength", len(text)))]


def responder(request: LLMRequest) -> dict[str, Any]:
    answer = answer_from_schema(request.json_schema)
    assert isinstance(answer, dict)
    return answer


def slow_responder(request: LLMRequest) -> dict[str, Any]:
    """The same answer, after a pause: gives a test time to kill a run half way."""
    import time

    time.sleep(1.5)
    return responder(request)


CHILD_RUN = """
from clausewatch.llm import fake
from tests.flows_support import slow_responder
from clausewatch.flows.monitor import monitor_flow
fake.install(responder=slow_responder)
monitor_flow()
"""
