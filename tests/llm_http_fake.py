"""A fake OpenAI-compatible chat-completions server on loopback, for the llm tests.

Each POST to ``/v1/chat/completions`` takes the next scripted reply; the request bodies are
recorded, so tests see exactly what the client sent. A 200 reply to a request with
``"stream": true`` is sent as server-sent events, a few characters per chunk (one "token"),
then the finish reason, the usage and ``[DONE]``; ``token_delay_s`` paces the chunks and
``stall_after`` stops sending after that many tokens for ``stall_s`` seconds (the connection
stays open), like a server that stopped producing tokens.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] | str = ""
    delay_s: float = 0.0  # before the response headers
    token_delay_s: float = 0.0
    stall_after: int | None = None
    stall_s: float = 30.0


TOKEN_CHARS = 3


def sse_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A chat.completion body as the chunks a streaming server would send."""
    choice = body["choices"][0]
    content = choice["message"]["content"] or ""
    base = {k: body[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    for i in range(0, len(content), TOKEN_CHARS):
        piece = content[i : i + TOKEN_CHARS]
        chunks.append({**base, "choices": [{"index": 0, "delta": {"content": piece}}]})
    finish = {"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}
    chunks.append({**base, "choices": [finish]})
    if "usage" in body:
        chunks.append({**base, "choices": [], "usage": body["usage"]})
    return chunks


def completion(
    content: str,
    *,
    prompt_tokens: int | None = 42,
    completion_tokens: int | None = 7,
    finish_reason: str = "stop",
) -> Reply:
    body: dict[str, Any] = {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "served-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
            }
        ],
    }
    if prompt_tokens is not None and completion_tokens is not None:
        body["usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
    return Reply(200, body)


def error(status: int, message: str = "boom") -> Reply:
    return Reply(status, {"error": {"message": message, "type": "test_error", "code": None}})


@dataclass
class FakeOpenAIServer:
    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    disconnects: int = 0  # streams the client closed before the end

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with outer._lock:
                    outer.requests.append(body)
                    outer.paths.append(self.path)
                    reply = outer.replies.pop(0) if outer.replies else error(500, "no reply")
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if body.get("stream") and reply.status == 200 and isinstance(reply.body, dict):
                    self._stream(reply)
                    return
                payload = (
                    reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                ).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def _stream(self, reply: Reply) -> None:
                assert isinstance(reply.body, dict)
                try:
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    self.wfile.flush()
                    tokens = 0
                    for chunk in sse_chunks(reply.body):
                        delta = chunk["choices"][0]["delta"] if chunk["choices"] else {}
                        if delta.get("content"):
                            if reply.stall_after is not None and tokens == reply.stall_after:
                                time.sleep(reply.stall_s)
                            tokens += 1
                            if reply.token_delay_s:
                                time.sleep(reply.token_delay_s)
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    with outer._lock:
                        outer.disconnects += 1

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def add(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
