"""A tiny structured question (``probe.json``) to check a backend end to end and time it."""

from __future__ import annotations

import json
import time
from importlib.resources import files
from typing import Any

from llm.base import LLM, LLMRequest
from llm.calls import complete_logged


def probe_definition() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(files("llm").joinpath("probe.json").read_text("utf-8"))
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

    For the local backend the prompt and generation speeds come from llama.cpp's own counters
    (``/metrics``), so they exclude HTTP and parsing; otherwise generation speed is estimated
    as output tokens over the whole call.
    """
    from llm.local import LocalLLM, metrics

    spec = probe_definition()
    request = probe_request()
    before: dict[str, float] = {}
    if isinstance(llm, LocalLLM) and llm.address:
        before = metrics(llm.address)
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
    }
    try:
        result["matches_expected"] = json.loads(response.content) == spec["expected"]
    except ValueError:
        result["matches_expected"] = False
    if isinstance(llm, LocalLLM) and llm.address:
        after = metrics(llm.address)

        def rate(tokens: str, seconds: str) -> float | None:
            n = after.get(tokens, 0.0) - before.get(tokens, 0.0)
            s = after.get(seconds, 0.0) - before.get(seconds, 0.0)
            return round(n / s, 1) if n > 0 and s > 0 else None

        result["prompt_tok_s"] = rate("prompt_tokens_total", "prompt_seconds_total")
        result["generation_tok_s"] = rate(
            "tokens_predicted_total", "tokens_predicted_seconds_total"
        )
    else:
        result["prompt_tok_s"] = None
        result["generation_tok_s"] = (
            round(response.tokens_out / elapsed, 1) if elapsed > 0 and response.tokens_out else None
        )
    return result
