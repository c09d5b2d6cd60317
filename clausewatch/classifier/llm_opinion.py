"""The LLM as an optional second opinion on a clause's categories (prompt
``clause_categories``). Slower and costlier than the offline classifier; used by
``clausewatch classifier classify --llm`` and by ``eval run clause-classification --backend``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from clausewatch.schemas.taxonomy import CATEGORIES, DESCRIPTIONS

PROMPT_ID = "clause_categories"


def response_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "categories": {
                "type": "array",
                "items": {"type": "string", "enum": list(CATEGORIES)},
                "maxItems": 4,
            }
        },
        "required": ["categories"],
        "additionalProperties": False,
    }


def parse_categories(content: str) -> list[str]:
    """Valid slugs of an answer, in order, without duplicates; [] for anything malformed."""
    try:
        data = json.loads(content)
    except json.JSONDecodeError:
        return []
    raw = data.get("categories") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return []
    out: list[str] = []
    for item in raw:
        if isinstance(item, str) and item in CATEGORIES and item not in out:
            out.append(item)
    return out[:4]


def llm_classify(
    texts: list[str],
    *,
    backend: str | None = None,
    hints: list[list[str]] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[list[str]]:
    """Categories of each text according to the LLM (one call per text, cached)."""
    from clausewatch.llm.base import LLMRequest
    from clausewatch.llm.calls import complete_logged
    from clausewatch.llm.factory import get_llm
    from clausewatch.prompts.loader import load_prompt

    template = load_prompt(PROMPT_ID)
    categories = [{"slug": c, "description": DESCRIPTIONS[c]} for c in CATEGORIES]
    llm = get_llm(backend)
    out: list[list[str]] = []
    try:
        for i, text in enumerate(texts):
            rendered = template.render(
                categories=categories, clause=text, hint=hints[i] if hints else []
            )
            request = LLMRequest(
                prompt_id=rendered.id,
                prompt_version=rendered.version,
                messages=rendered.messages,
                json_schema=response_schema(),
                schema_name="clause_categories",
                max_tokens=120,
            )
            out.append(parse_categories(complete_logged(llm, request).content))
            if progress:
                progress(i + 1, len(texts))
    finally:
        llm.close()
    return out
