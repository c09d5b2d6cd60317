"""A stand-in for llama.cpp's server inside ``clausewatch.llm.server_daemon`` (``--engine
fake_llm_engine:start``), so the shared-server tests run the real daemon, locks and queue in
seconds. It streams a fixed JSON answer one character group per chunk and appends every start
and request to ``<runtime dir>/fake-<key>.jsonl``. Environment (read per request):

* ``FAKE_LLM_LOAD_S``: seconds "loading the model" before serving (default 0.3);
* ``FAKE_LLM_TOKEN_DELAY_S``: seconds between chunks (default 0.01);
* ``FAKE_LLM_STALL_AFTER``: stop sending after that many chunks, for ``FAKE_LLM_STALL_S``.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ANSWER = json.dumps({"label": "privacy", "reason": "conversations are shared"})


def _chunks() -> list[dict[str, Any]]:
    base = {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "fake"}
    pieces = [ANSWER[i : i + 3] for i in range(0, len(ANSWER), 3)]
    chunks = [{**base, "choices": [{"index": 0, "delta": {"content": p}}]} for p in pieces]
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    usage = {"prompt_tokens": 30, "completion_tokens": len(pieces), "total_tokens": 30}
    chunks.append({**base, "choices": [], "usage": usage})
    return chunks


def start(args: argparse.Namespace, threads: int) -> tuple[str, Callable[[], None]]:
    record = Path(args.runtime_dir) / f"fake-{args.key}.jsonl"
    lock = threading.Lock()
    active = [0]

    def log(event: str, **fields: Any) -> None:
        with lock, record.open("a") as out:
            out.write(json.dumps({"event": event, "pid": os.getpid(), **fields}) + "\n")

    time.sleep(float(os.environ.get("FAKE_LLM_LOAD_S", "0.3")))
    log("start", threads=threads)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a: Any) -> None:
            return

        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 404)
            self.send_header("content-length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
            with lock:
                active[0] += 1
                concurrent = active[0]
            log("request", concurrent=concurrent, cache_prompt=body.get("cache_prompt"))
            delay = float(os.environ.get("FAKE_LLM_TOKEN_DELAY_S", "0.01"))
            stall_after = int(os.environ.get("FAKE_LLM_STALL_AFTER", "-1"))
            try:
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                for n, chunk in enumerate(_chunks()):
                    if n == stall_after:
                        time.sleep(float(os.environ.get("FAKE_LLM_STALL_S", "30")))
                    time.sleep(delay)
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                log("disconnected")
            finally:
                with lock:
                    active[0] -= 1

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}", server.shutdown


def events(runtime_dir: Path, key: str) -> list[dict[str, Any]]:
    path = runtime_dir / f"fake-{key}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]
