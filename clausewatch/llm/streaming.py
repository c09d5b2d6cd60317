"""Reading a streamed chat completion: progress, stall and budget limits, and what it said.

``read_stream(stream, ...)`` consumes an ``openai`` ``Stream[ChatCompletionChunk]``:

* every content delta counts as one generated token (servers send one token per chunk);
  llama.cpp's ``prompt_progress`` chunks (``return_progress``) and its final ``timings`` are
  read when present;
* ``CallProgress`` updates go to the callbacks of the current context (``llm.progress``),
  at most every ``REPORT_EVERY_S`` while generating;
* the stall limit is the HTTP read timeout (no byte for ``stall_s``: httpx raises); the
  per-draft budget is a watchdog that shuts the socket down at the deadline, which also tells
  the server the client is gone (llama.cpp then frees the slot at its next token);
* the result is a ``StreamResult``: text, refusal, finish reason, usage and the generation
  speed measured by the server (``timings.predicted_per_second``) or by us.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from clausewatch.llm.progress import CallProgress, report

log = logging.getLogger("clausewatch.llm")

REPORT_EVERY_S = 0.5
MIN_TOKENS_FOR_SPEED = 8  # fewer tokens say little about the generation speed


@dataclass
class StreamResult:
    content: str = ""
    refusal: str = ""
    finish_reason: str | None = None
    served_model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    usage_reported: bool = False
    tokens_streamed: int = 0
    tokens_per_s: float | None = None  # generation speed of this call
    prompt_tokens_per_s: float | None = None  # from llama.cpp's timings, when sent
    cached_prompt_tokens: int | None = None  # prompt tokens reused from llama.cpp's cache
    first_token_s: float | None = None  # from sending the request to the first token
    timings: dict[str, Any] = field(default_factory=dict)


class Watchdog:
    """Shuts the response's socket down at ``deadline`` (``time.monotonic()``), once."""

    def __init__(self, response: Any, deadline: float) -> None:
        self.fired = False
        self._response = response
        self._timer = threading.Timer(max(0.0, deadline - time.monotonic()), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        sock = _socket_of(self._response)
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked read; the server sees EOF
            else:
                self._response.close()
        except OSError as exc:
            log.debug("llm budget watchdog: %s", exc)

    def cancel(self) -> None:
        self._timer.cancel()


def _socket_of(response: Any) -> socket.socket | None:
    extensions = getattr(response, "extensions", None) or {}
    stream = extensions.get("network_stream")
    if stream is None:
        return None
    sock = stream.get_extra_info("socket")
    return sock if isinstance(sock, socket.socket) else None


def _extra(obj: Any, name: str) -> Any:
    extra = getattr(obj, "model_extra", None) or {}
    return extra.get(name)


def read_stream(
    chunks: Iterable[Any], result: StreamResult, *, started_at: float, sent_at: float
) -> StreamResult:
    """Consume the chunks into ``result`` (filled as they come, so a stopped stream leaves
    what it had). ``sent_at``: ``time.monotonic()`` when the request was sent."""
    first_token_at: float | None = None
    last_report = 0.0

    def speed(now: float) -> float | None:
        if first_token_at is None or result.tokens_streamed < 2 or now <= first_token_at:
            return None
        return (result.tokens_streamed - 1) / (now - first_token_at)

    for chunk in chunks:
        now = time.monotonic()
        if getattr(chunk, "model", None):
            result.served_model = chunk.model
        progress = _extra(chunk, "prompt_progress")
        if isinstance(progress, dict):
            total = int(progress.get("total", 0) or 0)
            result.prompt_tokens = total or result.prompt_tokens
            report(
                CallProgress(
                    "prompt",
                    queue_position=None,
                    prompt_tokens=result.prompt_tokens,
                    started_at=started_at,
                )
            )
        timings = _extra(chunk, "timings")
        if isinstance(timings, dict):
            result.timings = timings
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            result.usage_reported = True
            result.prompt_tokens = int(usage.prompt_tokens or 0)
            result.completion_tokens = int(usage.completion_tokens or 0)
        for choice in getattr(chunk, "choices", None) or []:
            delta = getattr(choice, "delta", None)
            text = getattr(delta, "content", None) if delta is not None else None
            refusal = getattr(delta, "refusal", None) if delta is not None else None
            if text:
                result.content += text
                result.tokens_streamed += 1
                if first_token_at is None:
                    first_token_at = now
                    result.first_token_s = now - sent_at
            if refusal:
                result.refusal += refusal
            if getattr(choice, "finish_reason", None):
                result.finish_reason = choice.finish_reason
        if first_token_at is not None and now - last_report >= REPORT_EVERY_S:
            last_report = now
            report(
                CallProgress(
                    "generating",
                    prompt_tokens=result.prompt_tokens,
                    tokens_generated=result.tokens_streamed,
                    tokens_per_s=speed(now),
                    started_at=started_at,
                )
            )
    server_speed = result.timings.get("predicted_per_second")
    if isinstance(server_speed, int | float) and server_speed > 0:
        result.tokens_per_s = float(server_speed)
    elif result.tokens_streamed >= MIN_TOKENS_FOR_SPEED:
        result.tokens_per_s = speed(time.monotonic())
    prompt_speed = result.timings.get("prompt_per_second")
    if isinstance(prompt_speed, int | float) and prompt_speed > 0:
        result.prompt_tokens_per_s = float(prompt_speed)
    cached = result.timings.get("cache_n")
    if isinstance(cached, int):
        result.cached_prompt_tokens = cached
    return result
