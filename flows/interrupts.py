"""Stop a run within seconds on SIGINT or SIGTERM, even in the middle of an LLM call.

``stop_on_signals()`` (the CLI's ``run``) installs handlers that, on the first signal:

* raise ``RunInterrupted`` in the main thread, so the flow records the run "interrupted"
  and the run lock is released on the way out;
* close the LLM clients in use (``using_llm``), which ends their HTTP requests;
* arm a watchdog: if the process has not ended ``grace_s`` later (a worker thread still
  in a model call keeps the interpreter from exiting), it marks unfinished runs
  "interrupted", runs the registered clean-ups and exits with 128 + the signal number.

A second signal exits at once. Prefect installs its own SIGTERM handler around a flow run;
the flow re-installs these handlers for its body (``reinstall``) when the CLI asked for them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM)
DEFAULT_GRACE_S = 3.0


class RunInterrupted(KeyboardInterrupt):
    """The run was asked to stop by a signal (``signum``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        return f"interrupted by {signal.Signals(self.signum).name}"


_lock = threading.Lock()
_active = False
_grace_s = DEFAULT_GRACE_S
_received: int | None = None
_llms: set[Any] = set()
_cleanups: list[Callable[[], None]] = []


def received() -> int | None:
    """The signal that interrupted this process, if any."""
    return _received


@contextlib.contextmanager
def using_llm(llm: Any) -> Iterator[None]:
    """Register ``llm`` (anything with ``close()``) to be closed when a signal arrives."""
    with _lock:
        _llms.add(llm)
    try:
        yield
    finally:
        with _lock:
            _llms.discard(llm)


def on_hard_exit(cleanup: Callable[[], None]) -> Callable[[], None]:
    """Run ``cleanup`` before the watchdog's hard exit; returns a function that unregisters it."""
    with _lock:
        _cleanups.append(cleanup)

    def forget() -> None:
        with _lock, contextlib.suppress(ValueError):
            _cleanups.remove(cleanup)

    return forget


def _close_llms() -> None:  # runs in the watchdog thread
    with _lock:
        llms = list(_llms)
    for llm in llms:
        with contextlib.suppress(Exception):
            llm.close()


def hard_exit(code: int) -> None:
    """Clean up what must not outlive the process, then leave without joining threads."""
    cleanups = list(reversed(_cleanups))  # no lock: a signal handler may run here
    for cleanup in cleanups:
        with contextlib.suppress(Exception):
            cleanup()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _watchdog(signum: int) -> None:
    name = signal.Signals(signum).name
    with contextlib.suppress(Exception):
        sys.stderr.write(f"clausewatch: interrupted by {name}: stopping the run\n")
    _close_llms()
    time.sleep(_grace_s)
    from clausewatch.flows.runs import interrupt_unfinished

    with contextlib.suppress(Exception):
        interrupt_unfinished(f"interrupted by {name}")
    with contextlib.suppress(Exception):
        sys.stderr.write(
            f"clausewatch: a model call was still running {_grace_s:.0f} s after {name}; "
            "exiting (the run is recorded as interrupted)\n"
        )
    hard_exit(128 + signum)


def _handle(signum: int, _frame: FrameType | None) -> None:
    global _received
    if _received is not None:  # a second signal: no more waiting
        hard_exit(128 + _received)
    _received = signum
    threading.Thread(
        target=_watchdog, args=(signum,), name="interrupt-watchdog", daemon=True
    ).start()
    raise RunInterrupted(signum)


def _install() -> dict[int, Any]:
    previous: dict[int, Any] = {}
    for signum in HANDLED:
        previous[signum] = signal.signal(signum, _handle)
    return previous


def _restore(previous: dict[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@contextlib.contextmanager
def stop_on_signals(grace_s: float = DEFAULT_GRACE_S) -> Iterator[None]:
    """Handle SIGINT/SIGTERM as described above inside the block (main thread only)."""
    global _active, _grace_s, _received
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received = None
    _grace_s = grace_s
    previous = _install()
    _active = True
    try:
        yield
    finally:
        _active = False
        _restore(previous)


@contextlib.contextmanager
def reinstall() -> Iterator[None]:
    """Inside a flow body: put the handlers back over Prefect's SIGTERM handler."""
    if not _active or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = _install()
    try:
        yield
    finally:
        _restore(previous)
