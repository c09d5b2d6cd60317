"""The shared local model server process (started by ``llm.shared_server.ensure_server``).

    python -m clausewatch.llm.server_daemon --model PATH --key KEY [--threads auto|N] ...

It detaches (forks; the first process exits at once), takes the ``alive`` lock, sizes its
threads (``llm.threads``), loads the model behind llama.cpp's OpenAI-compatible HTTP server
(xllamacpp) on a free loopback port, writes ``server-KEY.json`` and then serves until
SIGTERM/SIGINT, or until it has been idle for ``--idle-s`` seconds: no ``LocalLLM`` open in any
process, no request in its slots, no request for that long.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clausewatch.llm.shared_server import (
    Paths,
    held,
    lock_within,
    open_lock,
    read_json,
    try_lock,
    write_json,
)

# an engine starts the HTTP server and returns its address and a function that stops it
Engine = Callable[[argparse.Namespace, int], tuple[str, Callable[[], None]]]
IDLE_POLL_S = 1.0


def llama_engine(args: argparse.Namespace, threads: int) -> tuple[str, Callable[[], None]]:
    """llama.cpp's server (xllamacpp) with the model, on 127.0.0.1 and a free port."""
    import xllamacpp

    from clausewatch.llm.model_files import MODEL_NAME

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {MODEL_NAME}
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.n_parallel = args.parallel
    params.n_ctx = args.context_tokens * args.parallel
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    params.endpoint_metrics = True
    params.endpoint_slots = True
    params.verbosity = 0
    holder: list[Any] = [xllamacpp.Server(params)]
    address = str(holder[0].listening_address).rstrip("/")

    def stop() -> None:
        holder.clear()  # the binding stops the HTTP server and frees the model on deallocation

    return address, stop


def _load_engine(spec: str) -> Engine:
    module, _, name = spec.partition(":")
    engine: Engine = getattr(importlib.import_module(module), name)
    return engine


def _wait_healthy(address: str, timeout_s: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{address}/health", timeout=5.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{address}/health not ready after {timeout_s:.0f} s")
        time.sleep(0.1)


def _idle_since(paths: Paths, ready_at: float) -> float:
    try:
        return max(ready_at, paths.activity.stat().st_mtime)
    except OSError:
        return ready_at


def _try_stop_idle(paths: Paths, parallel: int) -> bool:
    """Under the start lock: no user, no busy slot. Removes the state file when idle."""
    start = open_lock(paths.start)
    if not try_lock(start, fcntl.LOCK_EX):
        os.close(start)
        return False
    fds = [open_lock(paths.users)] + [open_lock(paths.slot(i)) for i in range(parallel)]
    try:
        if all(try_lock(fd, fcntl.LOCK_EX) for fd in fds):
            with contextlib.suppress(FileNotFoundError):
                paths.state.unlink()
            return True  # the start lock stays held until this process exits
        os.close(start)
        return False
    finally:
        for fd in fds:
            os.close(fd)


def serve(args: argparse.Namespace) -> int:
    from clausewatch.llm.threads import choose_threads

    paths = Paths(Path(args.runtime_dir), args.key)
    alive = open_lock(paths.alive)
    lock_within(alive, fcntl.LOCK_EX, 60.0, "a previous server to exit")
    stop_event = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop_event.set())
    signal.signal(signal.SIGINT, lambda *_: stop_event.set())
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    base = {"key": args.key, "pid": os.getpid(), "launch_id": args.launch_id}
    write_json(paths.state, {**base, "status": "starting", "url": ""})
    started = time.monotonic()
    try:
        choice = choose_threads(args.threads)
        address, stop = _load_engine(args.engine)(args, choice.threads)
        _wait_healthy(address, args.start_timeout_s)
    except Exception as exc:
        traceback.print_exc()
        with contextlib.suppress(FileNotFoundError):
            paths.state.unlink()
        os.close(alive)  # before saying so: whoever reads the failure sees no server alive
        write_json(paths.failed, {**base, "error": f"{type(exc).__name__}: {exc}"[:1000]})
        return 1
    ready_at = time.time()
    write_json(
        paths.state,
        {
            **base,
            "status": "ready",
            "url": address,
            "model_path": args.model,
            "threads": choice.threads,
            "threads_reason": choice.reason,
            "busy_cores": choice.busy_cores,
            "physical_cores": choice.physical_cores,
            "context_tokens": args.context_tokens,
            "parallel": args.parallel,
            "idle_s": args.idle_s,
            "started_at": ready_at,
            "load_s": round(time.monotonic() - started, 2),
        },
    )
    print(
        f"ready at {address} pid {os.getpid()} threads {choice.threads} ({choice.reason}) "
        f"in {time.monotonic() - started:.1f} s",
        flush=True,
    )
    reason = "stopped by signal"
    while not stop_event.wait(min(IDLE_POLL_S, max(0.05, args.idle_s / 4))):
        if time.time() - _idle_since(paths, ready_at) < args.idle_s:
            continue
        if _try_stop_idle(paths, args.parallel):
            reason = f"idle for {args.idle_s:.0f} s"
            break
    else:
        with held(paths.start, fcntl.LOCK_EX, 30.0, "the start lock"):
            if (read_json(paths.state) or {}).get("pid") == os.getpid():
                paths.state.unlink()
    print(f"stopping: {reason}", flush=True)
    stop()
    return 0


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m clausewatch.llm.server_daemon")
    parser.add_argument("--model", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--threads", default="auto")
    parser.add_argument("--context-tokens", type=int, default=8192)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--idle-s", type=float, default=300.0)
    parser.add_argument("--start-timeout-s", type=float, default=600.0)
    parser.add_argument("--engine", default="clausewatch.llm.server_daemon:llama_engine")
    parser.add_argument("--launch-id", default="")
    parser.add_argument("--runtime-dir", required=True)
    parser.add_argument("--foreground", action="store_true", help="do not fork")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.foreground:
        return serve(args)
    if os.fork() > 0:
        os._exit(0)  # the starter reaps this first process; the server runs on, detached
    code = serve(args)
    sys.stdout.flush()
    os._exit(code)  # do not wait on threads the engine may have left


if __name__ == "__main__":
    sys.exit(main())
