"""What LLM and embedding calls cost: list prices in USD per million tokens (input, output).
Free backends (the registry's ``free``: local, fake) cost nothing; an unknown hosted model has
no price (``None``; the eval reports it with cost 0 and flags it in meta).
Prices are those published by the providers in 2025; override with CLAUSEWATCH_EVAL_PRICES
("model=in/out,model=in/out") when they change."""

from __future__ import annotations

import os

from clausewatch.llm.factory import is_free

PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-nano": (0.10, 0.40),
    # embeddings (llm.calls.embed_logged): input tokens only
    "text-embedding-3-small": (0.02, 0.0),
    "text-embedding-3-large": (0.13, 0.0),
}


def _overrides() -> dict[str, tuple[float, float]]:
    out: dict[str, tuple[float, float]] = {}
    raw = os.environ.get("CLAUSEWATCH_EVAL_PRICES", "")
    for item in filter(None, (p.strip() for p in raw.split(","))):
        model, _, prices = item.partition("=")
        cin, _, cout = prices.partition("/")
        try:
            out[model.strip()] = (float(cin), float(cout))
        except ValueError:
            continue
    return out


def price(backend: str, model: str) -> tuple[float, float] | None:
    """(USD per M input tokens, per M output tokens); None when unknown."""
    if is_free(backend):
        return (0.0, 0.0)
    table = {**PRICES_PER_MTOK, **_overrides()}
    if model in table:
        return table[model]
    base = next((m for m in sorted(table, key=len, reverse=True) if model.startswith(m)), None)
    return table[base] if base else None


def cost_usd(backend: str, model: str, tokens_in: int, tokens_out: int) -> float | None:
    rates = price(backend, model)
    if rates is None:
        return None
    return (tokens_in * rates[0] + tokens_out * rates[1]) / 1_000_000
