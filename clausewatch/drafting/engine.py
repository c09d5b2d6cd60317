"""The drafting loop: prompt -> model -> parse -> validate -> ground -> re-ask or accept.

Validation and grounding errors go back to the model (instructor style) up to
``settings.llm_max_reasks`` times; then the outcome is *flagged* with every attempt, its
errors and its usage recorded, for an editor to finish.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from clausewatch.core.settings import get_settings
from clausewatch.drafting.answer import ModelAnswer
from clausewatch.drafting.assemble import Usage, assemble
from clausewatch.drafting.context import DraftContext
from clausewatch.drafting.grounding import (
    GroundingSources,
    check_answer,
    check_grounding,
    check_quality,
)
from clausewatch.drafting.prompting import PROMPT_ID, REASK_PROMPT_ID, PreparedPrompt, prepare
from clausewatch.llm.base import LLM, LLMRequest, LLMResponse
from clausewatch.llm.factory import quality_reasks
from clausewatch.prompts import RenderedPrompt, load_prompt
from clausewatch.schemas.analysis import ProvisionAnalysis

SCHEMA_NAME = "provision_analysis"
MAX_TOKENS = 2000  # above the sum of the answer bounds (~1,400 tokens), so JSON is never cut
CONTENT_KEEP = 20_000  # characters of each raw answer kept in the attempt record
ECHO_KEEP = 8_000  # characters of a rejected answer echoed back in a re-ask
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


@dataclass
class DraftOutcome:
    analysis: ProvisionAnalysis | None
    rendered: RenderedPrompt
    prepared: PreparedPrompt
    attempts: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    model: str = ""
    backend: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0
    # the last answer that was valid and grounded but failed the quality checks: stored with
    # a flagged draft so the editor starts from it
    best_effort: ProvisionAnalysis | None = None

    @property
    def ok(self) -> bool:
        return self.analysis is not None

    @property
    def reasks(self) -> int:
        return max(0, len(self.attempts) - 1)


def format_validation_error(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors(include_url=False):
        loc = ""
        for part in err["loc"]:
            loc += f"[{part}]" if isinstance(part, int) else (f".{part}" if loc else str(part))
        got = err.get("input")
        shown = json.dumps(got, ensure_ascii=False)[:80] if got is not None else ""
        detail = f" (got {shown})" if shown and err["type"] != "missing" else ""
        out.append(f"{loc or 'answer'}: {err['msg']}{detail}")
    return out


def parse_content(content: str) -> tuple[dict[str, Any] | None, list[str]]:
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, [
            f"the answer is not valid JSON ({exc.msg} at character {exc.pos}); "
            "reply with one JSON object only"
        ]
    if not isinstance(data, dict):
        return None, ["the answer must be one JSON object, not a list or a value"]
    return data, []


def validate_content(
    content: str, ctx: DraftContext, prepared: PreparedPrompt, usage: Usage
) -> tuple[ProvisionAnalysis | None, str, list[str]]:
    """(analysis, kind, errors): kind is ok | json | schema | grounding | quality.

    A ``quality`` answer is valid and grounded, and comes back assembled (a best effort)."""
    data, errors = parse_content(content)
    if data is None:
        return None, "json", errors
    try:
        answer = ModelAnswer.model_validate(data).without_repeats()
    except ValidationError as exc:
        return None, "schema", format_validation_error(exc)
    errors = check_answer(answer, prepared.view)
    if errors:
        return None, "grounding", errors
    try:
        analysis = assemble(answer, ctx, prepared, usage)
    except ValidationError as exc:
        return None, "schema", format_validation_error(exc)
    sources = GroundingSources(
        clause_text=ctx.clause.text,
        comparables={c.clause_id: c for c in ctx.comparables},
        catalogue_ids=ctx.catalogue.keys(),
        candidate_ids=prepared.view.regulation_ids,
    )
    errors = check_grounding(analysis, sources)
    if errors:
        return None, "grounding", errors
    errors = check_quality(answer, prepared.view, ctx.clause.text)
    if errors:
        return analysis, "quality", errors
    return analysis, "ok", []


def _complete(llm: LLM, request: LLMRequest) -> LLMResponse:
    from clausewatch.llm.calls import complete_logged

    return complete_logged(llm, request)


def draft_analysis(ctx: DraftContext, llm: LLM, *, max_reasks: int | None = None) -> DraftOutcome:
    """Draft one analysis. Never raises on bad model output (the outcome is flagged);
    transport failures (``TransientError``) propagate so the caller can retry later.

    All the draft's LLM calls (re-asks included) share one deadline,
    ``CLAUSEWATCH_LLM_DRAFT_BUDGET_S`` (or a caller's tighter ``llm.progress.draft_budget``);
    a call still running at the deadline stops with ``BudgetExceeded`` (not re-sent)."""
    from clausewatch.llm.progress import draft_budget

    with draft_budget(get_settings().llm_draft_budget_s):
        return _draft_analysis(ctx, llm, max_reasks=max_reasks)


def _draft_analysis(ctx: DraftContext, llm: LLM, *, max_reasks: int | None) -> DraftOutcome:
    settings = get_settings()
    reasks = settings.llm_max_reasks if max_reasks is None else max_reasks
    template = load_prompt(PROMPT_ID)
    reask_template = load_prompt(REASK_PROMPT_ID)
    prepared = prepare(ctx)
    rendered = template.render(**prepared.inputs)
    outcome = DraftOutcome(
        analysis=None, rendered=rendered, prepared=prepared, model=llm.model, backend=llm.backend
    )
    messages = list(rendered.messages)
    max_attempts = reasks + 1
    # a backend may not be worth re-asking for quality alone (valid, grounded, but shallow):
    # its quality-only failure is flagged with its best effort at once (llm.factory)
    quality_budget = settings.drafting_quality_reasks
    if quality_budget is None:
        quality_budget = reasks if quality_reasks(llm.backend) else 0
    quality_used = 0
    for number in range(1, max_attempts + 1):
        asked = template if number == 1 else reask_template  # a re-ask is logged as itself
        request = LLMRequest(
            prompt_id=asked.id,
            prompt_version=asked.version,
            messages=messages,
            json_schema=prepared.schema,
            schema_name=SCHEMA_NAME,
            temperature=0.0,
            max_tokens=MAX_TOKENS,
        )
        response = _complete(llm, request)
        outcome.tokens_in += response.tokens_in
        outcome.tokens_out += response.tokens_out
        outcome.latency_ms += response.latency_ms
        outcome.model, outcome.backend = response.model, response.backend
        usage = Usage(
            model=response.model,
            backend=response.backend,
            prompt_id=template.id,
            prompt_version=template.version,
            tokens_in=outcome.tokens_in,
            tokens_out=outcome.tokens_out,
            attempts=number,
            latency_ms=outcome.latency_ms,
        )
        analysis, kind, errors = validate_content(response.content, ctx, prepared, usage)
        outcome.attempts.append(
            {
                "attempt": number,
                "prompt_id": asked.id,
                "prompt_version": asked.version,
                "outcome": kind,
                "errors": errors,
                "content": response.content[:CONTENT_KEEP],
                "tokens_in": response.tokens_in,
                "tokens_out": response.tokens_out,
                "latency_ms": response.latency_ms,
                "cached": response.cached,
                "model": response.model,
                "backend": response.backend,
            }
        )
        outcome.errors = errors
        if analysis is not None and kind == "ok":
            outcome.analysis = analysis
            return outcome
        if analysis is not None:
            outcome.best_effort = analysis
        if kind == "quality":
            if quality_used >= quality_budget:
                break
            quality_used += 1
        if number < max_attempts:
            reask = reask_template.render(errors=errors, attempt=number, max_attempts=max_attempts)
            messages = [
                *messages,
                {"role": "assistant", "content": response.content[:ECHO_KEEP]},
                *reask.messages,
            ]
    return outcome
