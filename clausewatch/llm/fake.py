"""A scripted LLM for tests: returns prepared answers in order and records what it was asked.

Tests reach it directly (``FakeLLM([...])``) or through the factory, so code that calls
``llm.factory.get_llm()`` can be tested unchanged::

    from clausewatch.llm import fake

    with fake.scripted([{"title": "..."}, "not json", TransientError("down")]) as llm:
        run_the_code_under_test()          # get_llm() / get_llm("fake") return ``llm``
    assert len(llm.requests) == 3

Script items: a ``str`` is returned as the raw content, a ``dict``/``list`` is returned as its
JSON, an ``LLMResponse`` is returned as is, an exception instance is raised. A ``responder``
callable (request -> any of those) can be given instead of, or after, a script.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from clausewatch.core.errors import ConfigError
from clausewatch.llm.base import LLMRequest, LLMResponse

FAKE_BACKEND = "fake"
FAKE_MODEL = "fake-model"

ScriptItem = str | dict[str, Any] | list[Any] | LLMResponse | BaseException
Responder = Callable[[LLMRequest], ScriptItem]


class FakeScriptExhausted(AssertionError):
    """The code under test asked more questions than the script has answers."""


def _prompt_text(request: LLMRequest) -> str:
    return "\n".join(m.get("content", "") for m in request.messages) + json.dumps(
        request.json_schema, sort_keys=True
    )


class FakeLLM:
    backend = FAKE_BACKEND

    def __init__(
        self,
        script: Iterable[ScriptItem] = (),
        *,
        responder: Responder | None = None,
        model: str = FAKE_MODEL,
    ) -> None:
        self.model = model
        self._script: list[ScriptItem] = list(script)
        self._responder = responder
        self._lock = threading.Lock()
        self.requests: list[LLMRequest] = []
        self.closed = False

    @property
    def remaining(self) -> int:
        """Scripted answers not used yet."""
        return len(self._script)

    def add(self, *items: ScriptItem) -> None:
        with self._lock:
            self._script.extend(items)

    def _next(self, request: LLMRequest) -> ScriptItem:
        with self._lock:
            self.requests.append(request)
            if self._script:
                return self._script.pop(0)
        if self._responder is not None:
            return self._responder(request)
        raise FakeScriptExhausted(
            f"FakeLLM has no answer left for request #{len(self.requests)} "
            f"(prompt {request.prompt_id}@{request.prompt_version})"
        )

    def complete(self, request: LLMRequest) -> LLMResponse:
        from clausewatch.core.tokens import count_tokens

        item = self._next(request)
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, LLMResponse):
            return item
        content = item if isinstance(item, str) else json.dumps(item, ensure_ascii=False)
        return LLMResponse(
            content=content,
            model=self.model,
            backend=self.backend,
            tokens_in=count_tokens(_prompt_text(request)),
            tokens_out=count_tokens(content),
            latency_ms=1,
            extra={"finish_reason": "stop", "fake": True},
        )

    def close(self) -> None:
        self.closed = True


_installed: FakeLLM | None = None
_installed_lock = threading.Lock()


def install(
    script: Iterable[ScriptItem] = (),
    *,
    responder: Responder | None = None,
    model: str = FAKE_MODEL,
) -> FakeLLM:
    """Make ``get_llm()`` return this fake (when the backend is ``fake``) until ``uninstall()``."""
    global _installed
    fake = FakeLLM(script, responder=responder, model=model)
    with _installed_lock:
        _installed = fake
    return fake


def uninstall() -> None:
    global _installed
    with _installed_lock:
        _installed = None


def installed() -> FakeLLM:
    """The installed fake; ConfigError when no test installed one."""
    with _installed_lock:
        fake = _installed
    if fake is None:
        raise ConfigError(
            "the fake LLM backend is for tests and has no script; call llm.fake.install(...) "
            "or set CLAUSEWATCH_LLM_BACKEND to auto/openai/openai-compatible/local"
        )
    return fake


@contextmanager
def scripted(
    script: Iterable[ScriptItem] = (),
    *,
    responder: Responder | None = None,
    model: str = FAKE_MODEL,
) -> Iterator[FakeLLM]:
    """``install`` for the duration of a ``with`` block."""
    fake = install(script, responder=responder, model=model)
    try:
        yield fake
    finally:
        uninstall()
