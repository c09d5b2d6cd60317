"""The LLM interface every backend implements, and the records it returns."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field


class LLMRequest(BaseModel):
    """A structured-output request: chat messages plus the JSON Schema the answer must fit."""

    prompt_id: str
    prompt_version: str
    messages: list[dict[str, str]]  # [{"role": "system"|"user"|"assistant", "content": ...}]
    json_schema: dict[str, Any]
    schema_name: str = "answer"
    temperature: float = 0.0
    max_tokens: int = 1500


class LLMResponse(BaseModel):
    content: str  # raw text the model returned (JSON expected)
    model: str
    backend: str
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: int = 0
    cached: bool = False
    extra: dict[str, Any] = Field(default_factory=dict)


@runtime_checkable
class LLM(Protocol):
    """A language model able to answer a structured-output request."""

    backend: str
    model: str

    def complete(self, request: LLMRequest) -> LLMResponse: ...

    def close(self) -> None: ...
