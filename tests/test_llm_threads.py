"""The thread rule of the local model server (llm.threads)."""

from __future__ import annotations

import pytest

from clausewatch.llm import threads
from clausewatch.llm.threads import choose_threads, threads_for


@pytest.mark.parametrize(
    ("physical", "busy", "expected"),
    [
        (2, 0.0, 2),  # a quiet 2-core machine: both cores
        (2, 0.4, 2),  # background noise rounds away
        (2, 0.6, 1),  # one core mostly busy elsewhere: one thread
        (2, 1.0, 1),
        (2, 2.0, 1),  # fully busy: still one thread, never zero
        (2, 3.5, 1),  # load beyond the cores (hyperthreads, rounding): one
        (8, 2.6, 5),
        (8, 0.0, 8),
        (1, 0.0, 1),
    ],
)
def test_free_physical_cores_at_least_one(physical: int, busy: float, expected: int) -> None:
    assert threads_for(physical, busy) == expected


def test_auto_measures_busy_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "physical_cores", lambda: 4)
    monkeypatch.setattr(threads, "busy_cores", lambda sample_s=1.0: 1.3)
    choice = choose_threads("auto")
    assert (choice.threads, choice.physical_cores, choice.busy_cores) == (3, 4, 1.3)
    assert choice.reason == "auto: 4 physical cores, 1.3 busy"
    assert choose_threads(None).threads == 3


def test_the_setting_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads, "busy_cores", lambda sample_s=1.0: pytest.fail("measured"))
    choice = choose_threads(2)
    assert (choice.threads, choice.busy_cores, choice.reason) == (
        2,
        None,
        "CLAUSEWATCH_LLM_THREADS",
    )
    assert choose_threads("3").threads == 3


def test_busy_cores_counts_a_busy_loop() -> None:
    import multiprocessing

    def spin(stop: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
        while not stop.is_set():
            pass

    quiet = threads.busy_cores(0.5)
    stop = multiprocessing.get_context("fork").Event()
    worker = multiprocessing.get_context("fork").Process(target=spin, args=(stop,))
    worker.start()
    try:
        loaded = threads.busy_cores(1.0)
    finally:
        stop.set()
        worker.join(5)
    assert loaded >= 0.5  # the loop alone keeps about one core busy
    assert loaded > quiet - 0.5 or quiet > 1.5  # (the machine may already be busy)


def test_settings_default_is_auto(monkeypatch: pytest.MonkeyPatch) -> None:
    from clausewatch.core.settings import Settings

    monkeypatch.delenv("CLAUSEWATCH_LLM_THREADS", raising=False)
    assert Settings().llm_threads == "auto"
    monkeypatch.setenv("CLAUSEWATCH_LLM_THREADS", "1")
    assert Settings().llm_threads == 1
    monkeypatch.setenv("CLAUSEWATCH_LLM_THREADS", "auto")
    assert Settings().llm_threads == "auto"
