"""JSON Schema helpers for structured output: OpenAI strict mode, names, local validation."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

# Keywords OpenAI's strict structured outputs reject. Length-like bounds are dropped from the
# copy sent in strict mode (the answer is still validated locally against the full schema);
# the structural ones make strict mode impossible for that schema.
_DROPPABLE_BOUNDS = frozenset(
    {"minLength", "maxLength", "minProperties", "maxProperties", "uniqueItems", "default"}
)
_STRUCTURAL_UNSUPPORTED = frozenset(
    {
        "allOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "patternProperties",
        "unevaluatedProperties",
        "unevaluatedItems",
        "propertyNames",
        "contains",
        "minContains",
        "maxContains",
        "prefixItems",
    }
)
# Keys whose values are maps of sub-schemas / lists of sub-schemas / a single sub-schema.
_SCHEMA_MAPS = ("properties", "$defs", "definitions")
_SCHEMA_LISTS = ("anyOf",)
_SCHEMA_SINGLE = ("items", "additionalProperties")


def schema_name(name: str) -> str:
    """A response-format name OpenAI accepts (``^[a-zA-Z0-9_-]{1,64}$``)."""
    cleaned = re.sub(r"[^a-zA-Z0-9_-]+", "_", name).strip("_")[:64]
    return cleaned or "answer"


def _strict_copy(node: Any) -> Any | None:
    """A copy of ``node`` fit for strict mode, or None when its structure forbids it."""
    if isinstance(node, list):
        out_list = []
        for item in node:
            converted = _strict_copy(item)
            if converted is None:
                return None
            out_list.append(converted)
        return out_list
    if not isinstance(node, dict):
        return node
    if _STRUCTURAL_UNSUPPORTED & node.keys():
        return None
    is_object = node.get("type") == "object" or "properties" in node
    if is_object:
        properties = node.get("properties", {})
        if node.get("additionalProperties") is not False:
            return None
        if sorted(node.get("required", [])) != sorted(properties):
            return None
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPABLE_BOUNDS:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            sub: dict[str, Any] = {}
            for name, child in value.items():
                converted = _strict_copy(child)
                if converted is None:
                    return None
                sub[name] = converted
            out[key] = sub
        elif (key in _SCHEMA_LISTS and isinstance(value, list)) or (
            key in _SCHEMA_SINGLE and isinstance(value, dict)
        ):
            converted = _strict_copy(value)
            if converted is None:
                return None
            out[key] = converted
        else:
            out[key] = copy.deepcopy(value)
    return out


def openai_strict_schema(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The schema as OpenAI strict mode accepts it, or None when it cannot be strict.

    Strict mode needs every object to list all its properties as required and to forbid
    additional properties. Length bounds are removed from the copy (strict mode rejects them);
    callers validate the answer against the full schema afterwards.
    """
    converted = _strict_copy(schema)
    return converted if isinstance(converted, dict) else None


def validation_errors(content: str, schema: dict[str, Any], limit: int = 10) -> list[str]:
    """Why ``content`` is not a JSON document matching ``schema`` (empty list when it is)."""
    import jsonschema

    try:
        document = json.loads(content)
    except ValueError as exc:
        return [f"not valid JSON: {exc}"]
    validator_cls = jsonschema.validators.validator_for(
        schema, default=jsonschema.Draft202012Validator
    )
    validator = validator_cls(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    messages = []
    for error in errors[:limit]:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        messages.append(f"{where}: {error.message[:300]}")
    if len(errors) > limit:
        messages.append(f"... and {len(errors) - limit} more")
    return messages
