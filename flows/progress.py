"""A process-wide progress reporter, so flows show a rich progress display from the CLI.

Tasks call ``report(stage, advance=..., total=...)``; the CLI installs a rich ``Progress``
through ``use(progress)``. Without one (Prefect workers, tests) reporting does nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import Progress, TaskID

_lock = threading.Lock()
_progress: Progress | None = None
_tasks: dict[str, TaskID] = {}


@contextmanager
def use(progress: Progress) -> Iterator[None]:
    global _progress
    with _lock:
        _progress = progress
        _tasks.clear()
    try:
        yield
    finally:
        with _lock:
            _progress = None
            _tasks.clear()


def report(
    stage: str, *, advance: float = 0, total: float | None = None, note: str | None = None
) -> None:
    with _lock:
        if _progress is None:
            return
        if stage not in _tasks:
            _tasks[stage] = _progress.add_task(stage, total=total)
        description = f"{stage} [dim]{note}[/dim]" if note is not None else None
        _progress.update(_tasks[stage], advance=advance, total=total, description=description)
