"""Retry only what is worth retrying: failures whose exception says ``retryable``."""

from __future__ import annotations

from typing import Any

from prefect.client.schemas.objects import State, TaskRun


def only_transient(_task: Any, _task_run: TaskRun, state: State[Any]) -> bool:
    """Prefect ``retry_condition_fn``: retry transient errors (network, busy LLM), not bugs."""
    try:
        state.result(raise_on_failure=True)
    except Exception as exc:
        return bool(getattr(exc, "retryable", False))
    return False
