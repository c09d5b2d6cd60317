"""What a monitoring run did, stage by stage (shown by the CLI, stored in ``runs``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Failure(BaseModel):
    stage: str
    item: str  # e.g. "nimbus-ai/privacy_policy" or "change 42"
    reason: str
    retryable: bool = False


class TrackResult(BaseModel):
    platform: str
    doc_type: str
    outcome: str  # new | unchanged | not_modified | suspect | failed
    reason: str | None = None
    version_id: int | None = None


class DraftResult(BaseModel):
    change_id: int
    draft_id: int | None = None
    status: str  # pending | flagged | reused | failed
    reason: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0


class LLMUsage(BaseModel):
    """LLM calls during a run (cache hits excluded), how many failed, and their tokens."""

    calls: int = 0
    failed: int = 0  # no answer: unreachable, timed out, refused
    invalid: int = 0  # an answer that did not fit the schema
    last_error: str | None = None
    last_error_at: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0


class RunSummary(BaseModel):
    run_id: int
    flow: str = "monitor"
    status: str = "ok"  # ok | partial | failed | interrupted
    imported_versions: int = 0
    new_versions: int = 0
    unchanged: int = 0
    suspect: int = 0  # drastic changes held until a later fetch brings them again
    changes_pending: int = 0
    embedded: int = 0
    drafts_created: int = 0
    drafts_flagged: int = 0
    drafts_reused: int = 0
    redrafts: int = 0
    drafts_deferred: int = 0  # left pending for the next run by the drafting budget
    drafts_handed_off: int = 0  # left queued for the task workers (flows.dispatch)
    deferred_reason: str | None = None
    llm_seconds: float = 0.0
    llm: LLMUsage = Field(default_factory=LLMUsage)
    seconds: float = 0.0
    failures: list[Failure] = Field(default_factory=list)
    tracked: list[TrackResult] = Field(default_factory=list)
    drafts: list[DraftResult] = Field(default_factory=list)
