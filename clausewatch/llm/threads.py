"""How many CPU threads the local model server gets.

The rule (README, Configuration): physical cores, less the cores other work keeps busy when the
server starts, at least one: ``max(1, physical - round(busy))``. ``busy`` is the machine's CPU
use over a short sample (``psutil.cpu_percent``), in cores. llama.cpp threads that outnumber
the free cores slow down far more than proportionally (measured here: 2 threads with one core
busy elsewhere 0.4 tokens/s, 1 thread 6.3 tokens/s), so the rule leans to fewer threads.
``CLAUSEWATCH_LLM_THREADS=N`` overrides it.
"""

from __future__ import annotations

from dataclasses import dataclass

SAMPLE_S = 1.0


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    physical_cores: int
    busy_cores: float | None  # None when the setting chose
    reason: str


def threads_for(physical_cores: int, busy_cores: float) -> int:
    """The rule: free physical cores, rounded to the nearest whole core, at least one."""
    free = physical_cores - round(max(0.0, busy_cores))
    return max(1, min(physical_cores, free))


def physical_cores() -> int:
    import psutil

    return int(psutil.cpu_count(logical=False) or psutil.cpu_count() or 1)


def busy_cores(sample_s: float = SAMPLE_S) -> float:
    """Cores in use over ``sample_s`` seconds (all processes), in physical-core units."""
    import psutil

    logical = psutil.cpu_count() or 1
    used_logical = float(psutil.cpu_percent(interval=sample_s)) / 100.0 * logical
    return used_logical * physical_cores() / logical


def choose_threads(setting: int | str | None, sample_s: float = SAMPLE_S) -> ThreadChoice:
    """``setting``: a number of threads, or ``"auto"``/``None`` for the rule above."""
    cores = physical_cores()
    if setting not in (None, "auto", "", 0, "0"):
        threads = max(1, int(setting))
        return ThreadChoice(threads, cores, None, "CLAUSEWATCH_LLM_THREADS")
    busy = busy_cores(sample_s)
    threads = threads_for(cores, busy)
    return ThreadChoice(
        threads, cores, round(busy, 2), f"auto: {cores} physical cores, {busy:.1f} busy"
    )
