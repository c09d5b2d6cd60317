"""What an LLM call in progress reports, per-draft deadlines, and the errors for slow calls.

The run side (progress display, ETA, budget degrade) and the LLM side meet here:

* ``reporting(callback)``: every LLM call made inside the ``with`` block (same thread or task;
  a ``contextvars`` value) sends ``CallProgress`` updates to ``callback``: ``queued`` (with its
  position in the per-user queue of the shared local server), ``prompt`` (the server is reading
  the prompt), ``generating`` (tokens so far and tokens/s) and ``done``. Blocks nest: the
  outer callbacks receive the inner block's updates too. A callback that raises is logged and
  dropped from that update; it never breaks the call.
* ``draft_budget(seconds)``: a deadline for everything inside the block (one draft, however
  many calls and re-asks it makes). A call running past it stops with ``BudgetExceeded``.
  Nested budgets keep the earlier deadline.
* ``StallTimeout``: no token arrived for ``CLAUSEWATCH_LLM_STALL_S`` seconds.
* Both are ``TransientError`` (the draft may succeed on a later run) but not ``retryable``:
  re-sending a local call from scratch would throw away the prompt already processed and
  queue behind the generation still running. An OpenAI-compatible backend may mark a stall
  retryable (a remote server can drop one stream and serve the next); a spent budget never is.
* ``measured_speed()``: the generation speed (tokens/s) the last finished call measured, in
  this process, else the last one any clausewatch process of this user recorded (on disk), or
  ``None`` when nothing was measured yet.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from clausewatch.core.errors import TransientError
from clausewatch.core.files import atomic_write

log = logging.getLogger("clausewatch.llm")

Phase = Literal["queued", "prompt", "generating", "done"]
Callback = Callable[["CallProgress"], None]


@dataclass(frozen=True)
class CallProgress:
    """One update from an LLM call.

    ``queue_position``: requests ahead of this one for the shared local server (0: being
    served; ``None``: not queued, e.g. a remote backend). ``prompt_tokens``: the prompt size
    (estimated before the server reports it). ``tokens_per_s``: generation speed of this call
    so far (``None`` before the second token). ``started_at``: wall-clock ``time.time()`` when
    the call began (queue wait included).
    """

    phase: Phase
    queue_position: int | None = None
    prompt_tokens: int = 0
    tokens_generated: int = 0
    tokens_per_s: float | None = None
    started_at: float = field(default_factory=time.time)


class StallTimeout(TransientError):
    """The model sent no token for the stall limit. Not re-sent by default (see module doc)."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class BudgetExceeded(TransientError):
    """The per-draft budget ran out while a call was queued or generating. Never re-sent."""

    retryable = False


_callbacks: ContextVar[tuple[Callback, ...]] = ContextVar("clausewatch_llm_progress", default=())
_deadline: ContextVar[float | None] = ContextVar("clausewatch_llm_deadline", default=None)


@contextlib.contextmanager
def reporting(callback: Callback) -> Iterator[None]:
    """Send the ``CallProgress`` of every LLM call inside the block to ``callback``."""
    token = _callbacks.set((*_callbacks.get(), callback))
    try:
        yield
    finally:
        _callbacks.reset(token)


def report(progress: CallProgress) -> None:
    """Deliver an update to the callbacks of the current context (used by the backends)."""
    for callback in _callbacks.get():
        try:
            callback(progress)
        except Exception:
            log.exception("llm progress callback failed")


def is_reporting() -> bool:
    return bool(_callbacks.get())


@contextlib.contextmanager
def draft_budget(seconds: float | None) -> Iterator[None]:
    """A deadline ``seconds`` from now for every LLM call in the block (``None``: no budget)."""
    if seconds is None:
        yield
        return
    deadline = time.monotonic() + max(0.0, seconds)
    current = _deadline.get()
    token = _deadline.set(deadline if current is None else min(current, deadline))
    try:
        yield
    finally:
        _deadline.reset(token)


def remaining_budget() -> float | None:
    """Seconds left of the innermost per-draft budget (may be <= 0), or ``None`` without one."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def check_budget(what: str = "the LLM call") -> None:
    """Raise ``BudgetExceeded`` when the current per-draft budget is spent."""
    left = remaining_budget()
    if left is not None and left <= 0:
        raise BudgetExceeded(f"{what} ran past the per-draft budget")


_last_speed: float | None = None
_last_backend = ""


def speed_file() -> Path:
    """Where the last measured speed is kept for other processes of this user."""
    from clausewatch.llm.runtime import runtime_dir

    return runtime_dir() / "speed.json"


def record_speed(tokens_per_s: float, *, backend: str = "", model: str = "") -> None:
    """Remember a measured generation speed (this process, and on disk for the others)."""
    global _last_speed, _last_backend
    if tokens_per_s <= 0:
        return
    _last_speed, _last_backend = tokens_per_s, backend
    try:
        record = {"tokens_per_s": tokens_per_s, "backend": backend, "model": model}
        atomic_write(speed_file(), json.dumps({**record, "at": time.time()}))
    except OSError as exc:  # speed is advisory: never fail a call over it
        log.debug("could not record llm speed: %s", exc)


def measured_speed(backend: str | None = None) -> float | None:
    """The last measured generation speed in tokens/s (see module doc), or ``None``.

    ``backend``: only a speed measured with that backend (``local``, ``openai-compatible``...).
    """
    if _last_speed is not None and (backend is None or _last_backend == backend):
        return _last_speed
    try:
        data = json.loads(speed_file().read_text("utf-8"))
        value = float(data["tokens_per_s"])
        if backend is not None and data.get("backend") != backend:
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return value if value > 0 else None


def reset_speed() -> None:
    """Forget the in-process speed (tests)."""
    global _last_speed
    _last_speed = None
