"""Can the measured speed finish a draft within the per-draft budget? (``llm prepare``)

A typical draft is the average of this workspace's drafting calls (``llm_calls`` rows of the
drafting prompt that returned an answer), or, before there are any, the size the analysis
eval measured: 1,237 prompt tokens and 444 answer tokens per call (evals/README.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_PROMPT_TOKENS = 1237
DEFAULT_ANSWER_TOKENS = 444
HEADROOM = 1.25  # the budget to suggest: the estimate plus a quarter


@dataclass(frozen=True)
class DraftSize:
    prompt_tokens: int
    answer_tokens: int
    source: str  # "this workspace (N calls)" | "the analysis eval"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    estimate_s: float | None  # None: no speed measured
    budget_s: float
    lines: list[str]  # what to tell the user, plainly


def typical_draft() -> DraftSize:
    """The average size of this workspace's drafting calls (see module doc)."""
    from sqlalchemy import func, select

    from clausewatch.llm.calls import INVALID, OK
    from clausewatch.prompts import ANALYSIS_PROMPT_ID
    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models.drafts import LLMCall

    with session_scope() as session:
        count, tokens_in, tokens_out = session.execute(
            select(
                func.count(LLMCall.id), func.avg(LLMCall.tokens_in), func.avg(LLMCall.tokens_out)
            ).where(LLMCall.prompt_id == ANALYSIS_PROMPT_ID, LLMCall.outcome.in_([OK, INVALID]))
        ).one()
    if not count:
        return DraftSize(DEFAULT_PROMPT_TOKENS, DEFAULT_ANSWER_TOKENS, "the analysis eval")
    return DraftSize(
        int(tokens_in or 0), int(tokens_out or 0), f"this workspace ({count} drafting calls)"
    )


def draft_seconds(size: DraftSize, prompt_tok_s: float | None, generation_tok_s: float) -> float:
    """Seconds for one draft call at these speeds (prompt speed unknown: not counted)."""
    prompt_s = size.prompt_tokens / prompt_tok_s if prompt_tok_s else 0.0
    return prompt_s + size.answer_tokens / generation_tok_s


def verdict(
    *,
    size: DraftSize,
    prompt_tok_s: float | None,
    generation_tok_s: float | None,
    budget_s: float,
    backend: str,
    threads: int | None = None,
    threads_reason: str = "",
) -> Verdict:
    """Whether a typical draft fits the budget at the measured speed, and what to change."""
    what = (
        f"a typical draft ({size.prompt_tokens:,} tokens in, {size.answer_tokens:,} out, "
        f"from {size.source})"
    )
    if not generation_tok_s:
        return Verdict(
            False,
            None,
            budget_s,
            [f"no generation speed was measured, so the time for {what} is unknown"],
        )
    estimate = draft_seconds(size, prompt_tok_s, generation_tok_s)
    speeds = f"{generation_tok_s:.1f} tokens/s generation" + (
        f", {prompt_tok_s:.1f} tokens/s prompt" if prompt_tok_s else ""
    )
    if estimate <= budget_s:
        return Verdict(
            True,
            estimate,
            budget_s,
            [
                f"at {speeds}, {what} takes about {estimate:.0f} s: within the "
                f"{budget_s:.0f} s per-draft budget (CLAUSEWATCH_LLM_DRAFT_BUDGET_S)"
            ],
        )
    lines = [
        f"TOO SLOW: at {speeds}, {what} needs about {estimate:.0f} s, more than the "
        f"{budget_s:.0f} s per-draft budget (CLAUSEWATCH_LLM_DRAFT_BUDGET_S); drafts would "
        "stop at the budget and stay pending for the next run. To change that:"
    ]
    from clausewatch.llm.factory import serves_here

    if serves_here(backend):
        how = f" ({threads_reason})" if threads_reason else ""
        if threads and threads > 1:
            lines.append(
                f"- the local model server runs with {threads} threads{how}: set "
                "CLAUSEWATCH_LLM_THREADS to fewer threads than free cores (1 on a busy 2-core "
                "machine: threads beyond the free cores slow llama.cpp down many times over) "
                "or to auto, then `clausewatch llm stop` so the next run starts it with the "
                "new setting; or stop other CPU-heavy work"
            )
        else:
            lines.append(
                f"- the local model server already runs with {threads or 'its'} thread(s){how}: "
                "the machine's other work is taking the CPU; stop CPU-heavy work, or run "
                "clausewatch where cores are free"
            )
        lines.append(
            "- or use a faster model server: CLAUSEWATCH_LLM_BASE_URL=http://HOST:PORT/v1 with "
            "CLAUSEWATCH_LLM_MODEL (vLLM, Ollama, llama.cpp), or OPENAI_API_KEY"
        )
    else:
        lines.append(
            f"- the {backend} server is slow: use a faster one (CLAUSEWATCH_LLM_BASE_URL, "
            "CLAUSEWATCH_LLM_MODEL) or a smaller model"
        )
    lines.append(
        f"- or allow more time per draft: CLAUSEWATCH_LLM_DRAFT_BUDGET_S="
        f"{math.ceil(estimate * HEADROOM / 60) * 60}"
    )
    return Verdict(False, estimate, budget_s, lines)
