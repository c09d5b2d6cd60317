"""Every LLM call logged in ``llm_calls`` and reused when the same request comes again.

``complete_logged(llm, request)`` is how the rest of clausewatch calls a model:

* the cache key is the sha256 of the request (messages, JSON Schema and its name, prompt
  id/version, temperature, max tokens) plus the backend and model; a stored ``ok`` answer for
  that key is returned with ``cached=True`` and no call is made (the hit is logged as a
  ``cached`` row with zero tokens, so usage totals count only real calls);
* otherwise the backend is called; the row records tokens in/out (the backend's usage, or
  tiktoken counts when the server reports none), latency, the raw response and the outcome:
  ``ok`` (JSON matching the schema), ``invalid`` (answer returned, but not JSON or not matching
  the schema; the reasons are in ``error`` and in ``response.extra["validation_errors"]``) or
  ``error`` (no answer: the exception is re-raised after logging);
* each call also emits one structured log line on the ``clausewatch.llm`` logger.

``embed_logged`` puts a hosted embedding request through the same log (prompt id
``embedding``), so usage and cost count every paid call.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clausewatch.llm.base import LLM, LLMRequest, LLMResponse
from clausewatch.llm.schemas import validation_errors

log = logging.getLogger("clausewatch.llm")

OK, INVALID, ERROR, CACHED = "ok", "invalid", "error", "cached"
R = TypeVar("R")


def cache_key(request: LLMRequest, *, backend: str, model: str) -> str:
    """sha256 over everything that determines the answer."""
    material = {
        "backend": backend,
        "model": model,
        "prompt_id": request.prompt_id,
        "prompt_version": request.prompt_version,
        "messages": request.messages,
        "schema": request.json_schema,
        "schema_name": request.schema_name,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
    }
    canonical = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def prompt_tokens(request: LLMRequest) -> int:
    """tiktoken count of the messages and schema (an estimate for servers reporting no usage)."""
    from clausewatch.core.tokens import count_tokens

    text = "\n".join(m.get("content", "") for m in request.messages)
    return count_tokens(text) + count_tokens(json.dumps(request.json_schema))


def _record(**fields: Any) -> int:
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models.drafts import LLMCall

    with session_scope() as session:
        row = LLMCall(**fields)
        session.add(row)
        session.flush()
        return int(row.id)


def _emit(
    outcome: str, request: LLMRequest, llm: LLM, key: str, call_id: int, **fields: Any
) -> None:
    _log_line(
        outcome,
        backend=llm.backend,
        model=llm.model,
        prompt_id=request.prompt_id,
        prompt_version=request.prompt_version,
        key=key,
        call_id=call_id,
        **fields,
    )


def _log_line(
    outcome: str,
    *,
    backend: str,
    model: str,
    prompt_id: str,
    prompt_version: str,
    key: str,
    call_id: int,
    **fields: Any,
) -> None:
    record = {
        "call_id": call_id,
        "backend": backend,
        "model": model,
        "prompt_id": prompt_id,
        "prompt_version": prompt_version,
        "outcome": outcome,
        "cache_key": key[:16],
        **fields,
    }
    text = " ".join(f"{k}={v}" for k, v in record.items() if k != "error")
    if outcome == ERROR:
        log.warning("llm call %s error=%s", text, fields.get("error", ""), extra={"llm": record})
    else:
        log.info("llm call %s", text, extra={"llm": record})


def _cached(key: str) -> tuple[int, str, int, int, int] | None:
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models.drafts import LLMCall

    with session_scope() as session:
        row = session.execute(
            select(
                LLMCall.id,
                LLMCall.response,
                LLMCall.tokens_in,
                LLMCall.tokens_out,
                LLMCall.latency_ms,
            )
            .where(LLMCall.cache_key == key, LLMCall.outcome == OK, LLMCall.response.is_not(None))
            .order_by(LLMCall.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return None
    return int(row[0]), str(row[1]), int(row[2]), int(row[3]), int(row[4])


def complete_logged(llm: LLM, request: LLMRequest, *, use_cache: bool | None = None) -> LLMResponse:
    """``llm.complete(request)`` with caching, an ``llm_calls`` row and a log line."""
    from clausewatch.core.settings import get_settings

    if use_cache is None:
        use_cache = get_settings().llm_cache
    key = cache_key(request, backend=llm.backend, model=llm.model)
    common = {
        "backend": llm.backend,
        "model": llm.model,
        "prompt_id": request.prompt_id,
        "prompt_version": request.prompt_version,
        "cache_key": key,
    }
    if use_cache and (hit := _cached(key)) is not None:
        source_id, content, tokens_in, tokens_out, latency_ms = hit
        call_id = _record(**common, outcome=CACHED, tokens_in=0, tokens_out=0, latency_ms=0)
        _emit(CACHED, request, llm, key, call_id, cached_from=source_id)
        return LLMResponse(
            content=content,
            model=llm.model,
            backend=llm.backend,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_ms=latency_ms,
            cached=True,
            extra={"call_id": call_id, "cached_from": source_id, "outcome": OK},
        )

    started = time.perf_counter()
    try:
        response = llm.complete(request)
    except Exception as exc:
        latency_ms = int((time.perf_counter() - started) * 1000)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        call_id = _record(
            **common,
            outcome=ERROR,
            tokens_in=prompt_tokens(request),
            tokens_out=0,
            latency_ms=latency_ms,
            error=error,
        )
        _emit(ERROR, request, llm, key, call_id, latency_ms=latency_ms, error=error)
        raise

    extra = dict(response.extra)
    tokens_in, tokens_out = response.tokens_in, response.tokens_out
    if tokens_in == 0 and tokens_out == 0:
        from clausewatch.core.tokens import count_tokens

        tokens_in, tokens_out = prompt_tokens(request), count_tokens(response.content)
        extra["tokens_estimated"] = True
    problems = validation_errors(response.content, request.json_schema)
    outcome = INVALID if problems else OK
    call_id = _record(
        **common,
        outcome=outcome,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_ms=response.latency_ms,
        error="; ".join(problems)[:2000] if problems else None,
        response=response.content,
    )
    extra.update(call_id=call_id, outcome=outcome, validation_errors=problems)
    _emit(
        outcome,
        request,
        llm,
        key,
        call_id,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_ms=response.latency_ms,
    )
    return response.model_copy(
        update={"tokens_in": tokens_in, "tokens_out": tokens_out, "extra": extra}
    )


EMBEDDING_PROMPT_ID = "embedding"
EMBEDDING_PROMPT_VERSION = "1"


def embed_logged(
    backend: str, model: str, texts: list[str], call: Callable[[], R], usage: Callable[[R], int]
) -> R:
    """One embedding request through the call log, like a chat call: an ``llm_calls`` row
    (prompt id ``embedding``; tokens in from the server's ``usage``, else counted; latency;
    ``ok`` or ``error``, the exception re-raised) and a log line. Never served from the cache.
    """
    from clausewatch.core.tokens import count_tokens

    material = json.dumps({"backend": backend, "model": model, "input": texts}, sort_keys=True)
    key = hashlib.sha256(material.encode("utf-8")).hexdigest()
    who = {
        "backend": backend,
        "model": model,
        "prompt_id": EMBEDDING_PROMPT_ID,
        "prompt_version": EMBEDDING_PROMPT_VERSION,
    }
    started = time.perf_counter()
    try:
        result = call()
    except Exception as exc:
        latency_ms = int((time.perf_counter() - started) * 1000)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        tokens_in = sum(count_tokens(t) for t in texts)
        call_id = _record(
            **who,
            cache_key=key,
            outcome=ERROR,
            tokens_in=tokens_in,
            tokens_out=0,
            latency_ms=latency_ms,
            error=error,
        )
        _log_line(ERROR, **who, key=key, call_id=call_id, latency_ms=latency_ms, error=error)
        raise
    latency_ms = int((time.perf_counter() - started) * 1000)
    tokens_in = usage(result) or sum(count_tokens(t) for t in texts)
    call_id = _record(
        **who, cache_key=key, outcome=OK, tokens_in=tokens_in, tokens_out=0, latency_ms=latency_ms
    )
    _log_line(OK, **who, key=key, call_id=call_id, tokens_in=tokens_in, latency_ms=latency_ms)
    return result


def usage_summary(session: Session, since: datetime | None = None) -> dict[str, Any]:
    """Totals over ``llm_calls`` (optionally since a time).

    ``calls`` counts real calls (every outcome but ``cached``); ``cache_hits`` the answers served
    from the store. ``by_outcome`` and ``by_model`` ("backend/model") break the totals down;
    ``cost_usd`` is what the calls cost at list prices (``llm.pricing``), chat and embeddings
    alike, and ``unpriced`` names the models with no known price.
    """
    from clausewatch.storage.models.drafts import LLMCall

    query = select(
        LLMCall.backend,
        LLMCall.model,
        LLMCall.outcome,
        func.count(LLMCall.id),
        func.coalesce(func.sum(LLMCall.tokens_in), 0),
        func.coalesce(func.sum(LLMCall.tokens_out), 0),
        func.coalesce(func.sum(LLMCall.latency_ms), 0),
    ).group_by(LLMCall.backend, LLMCall.model, LLMCall.outcome)
    if since is not None:
        if since.tzinfo is not None:  # the table stores naive UTC
            since = since.astimezone(UTC).replace(tzinfo=None)
        query = query.where(LLMCall.at >= since)
    summary: dict[str, Any] = {
        "since": since.isoformat() if since else None,
        "calls": 0,
        "cache_hits": 0,
        "tokens_in": 0,
        "tokens_out": 0,
        "latency_ms": 0,
        "by_outcome": {},
        "by_model": {},
        "cost_usd": 0.0,  # at list prices (llm.pricing); models without a price in ``unpriced``
        "unpriced": [],
    }
    from clausewatch.llm.pricing import cost_usd

    for backend, model, outcome, count, t_in, t_out, latency in session.execute(query):
        count, t_in, t_out, latency = int(count), int(t_in), int(t_out), int(latency)
        summary["by_outcome"][outcome] = summary["by_outcome"].get(outcome, 0) + count
        if outcome == CACHED:
            summary["cache_hits"] += count
            continue
        summary["calls"] += count
        summary["tokens_in"] += t_in
        summary["tokens_out"] += t_out
        summary["latency_ms"] += latency
        entry = summary["by_model"].setdefault(
            f"{backend}/{model}",
            {"calls": 0, "tokens_in": 0, "tokens_out": 0, "backend": backend, "model": model},
        )
        entry["calls"] += count
        entry["tokens_in"] += t_in
        entry["tokens_out"] += t_out
    for name, entry in summary["by_model"].items():
        entry["cost_usd"] = cost_usd(
            entry.pop("backend"), entry.pop("model"), entry["tokens_in"], entry["tokens_out"]
        )
        if entry["cost_usd"] is None:
            summary["unpriced"].append(name)
    summary["cost_usd"] = sum(e["cost_usd"] or 0.0 for e in summary["by_model"].values())
    return summary


def failure_summary(session: Session, since: datetime | None = None) -> dict[str, Any]:
    """Real calls (not cache hits), how many failed and their tokens (since a time, naive UTC).

    ``failed``: no answer (``error``: unreachable, timed out, refused); ``invalid``: an answer
    that did not fit the schema; ``last_error``: the newest failed call's error and time.
    """
    from clausewatch.storage.models.drafts import LLMCall

    window = [LLMCall.at >= since] if since is not None else []
    counts = dict(
        session.execute(
            select(LLMCall.outcome, func.count(LLMCall.id))
            .where(*window, LLMCall.outcome != CACHED)
            .group_by(LLMCall.outcome)
        ).all()
    )
    tokens_in, tokens_out = session.execute(
        select(
            func.coalesce(func.sum(LLMCall.tokens_in), 0),
            func.coalesce(func.sum(LLMCall.tokens_out), 0),
        ).where(*window, LLMCall.outcome != CACHED)
    ).one()
    last = session.execute(
        select(LLMCall.at, LLMCall.error)
        .where(*window, LLMCall.outcome == ERROR)
        .order_by(LLMCall.id.desc())
        .limit(1)
    ).first()
    return {
        "calls": int(sum(counts.values())),
        "failed": int(counts.get(ERROR, 0)),
        "invalid": int(counts.get(INVALID, 0)),
        "last_error": str(last[1] or "")[:500] if last is not None else None,
        "last_error_at": last[0].isoformat(timespec="seconds") if last is not None else None,
        "tokens_in": int(tokens_in),
        "tokens_out": int(tokens_out),
    }
