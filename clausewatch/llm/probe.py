"""A tiny structured question (``probe.json``) to check a backend end to end and time it."""

from __future__ import annotations

import json
import time
from importlib.resources import files
from typing import Any

from clausewatch.llm.base import LLM, LLMRequest
from clausewatch.llm.calls import complete_logged


def probe_definition() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        files("clausewatch.llm").joinpath("probe.json").read_text("utf-8")
    )
    return data


def probe_request() -> LLMRequest:
    spec = probe_definition()
    return LLMRequest(
        prompt_id=spec["prompt_id"],
        prompt_version=spec["prompt_version"],
        messages=spec["messages"],
        json_schema=spec["json_schema"],
        schema_name=spec["schema_name"],
        max_tokens=spec["max_tokens"],
    )


def run_probe(llm: LLM) -> dict[str, Any]:
    """Ask the probe question (never from the cache); answer, validity and timings.

    Speeds are those of this one call: the local server's own timings (llama.cpp reports
    them with the answer, so other processes' requests do not blur them), else the streamed
    tokens over the time since the first one (``prompt_tok_s`` then unknown).
    """
    spec = probe_definition()
    request = probe_request()
    started = time.perf_counter()
    response = complete_logged(llm, request, use_cache=False)
    elapsed = time.perf_counter() - started
    result: dict[str, Any] = {
        "backend": llm.backend,
        "model": llm.model,
        "answer": response.content,
        "valid": response.extra.get("outcome") == "ok",
        "validation_errors": response.extra.get("validation_errors", []),
        "tokens_in": response.tokens_in,
        "tokens_out": response.tokens_out,
        "seconds": round(elapsed, 3),
        "first_token_s": response.extra.get("first_token_s"),
        "prompt_tok_s": response.extra.get("prompt_tokens_per_s"),
        "generation_tok_s": response.extra.get("tokens_per_s"),
    }
    try:
        result["matches_expected"] = json.loads(response.content) == spec["expected"]
    except ValueError:
        result["matches_expected"] = False
    return result
