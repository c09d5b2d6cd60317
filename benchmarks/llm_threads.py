"""Local model speed with auto threads vs a fixed thread count while the CPU is busy, and the
prompt cache on a repeated prefix.

    .venv/bin/python benchmarks/llm_threads.py [--busy 1] [--fixed 2] [--runs 2]
        [--max-tokens 48] [--models-dir DIR]

For each thread setting (``auto``, then ``--fixed``) it starts the shared local model server
afresh (in a private runtime folder, so a user's running server is left alone) while
``--busy`` CPU loops run, asks ``--runs`` short structured questions (different prompts: no
cache reuse) and prints llama.cpp's own prompt and generation speeds for each. Then, on the
auto server, it asks twice with the same long prefix and a different question and prints the
time to the first token and the prompt tokens taken from the cache. Text is written by us.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.llm_local import CLAUSE  # noqa: E402  (the same clause as llm_local)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "maxLength": 200},
        "exposure": {"type": "string", "enum": ["Low", "Medium", "High"]},
    },
    "required": ["summary", "exposure"],
    "additionalProperties": False,
}
# a long shared prefix, like the drafting prompt's instructions and examples
PREFIX = " ".join(
    f"Rule {n}: when a clause {topic}, say so in the summary and raise the exposure by one level."
    for n, topic in enumerate(
        [
            "shares conversations with third parties",
            "keeps data longer than needed",
            "uses inputs to train models",
            "waives class actions",
            "caps liability below the fees paid",
            "allows unilateral changes without notice",
            "moves data outside the European Economic Area",
            "lets minors sign up without consent",
        ]
        * 6,
        start=1,
    )
)


def spin(stop: Any) -> None:
    while not stop.is_set():
        pass


def ask(llm: Any, system: str, user: str, max_tokens: int, tag: str) -> dict[str, Any]:
    from clausewatch.llm.base import LLMRequest

    request = LLMRequest(
        prompt_id="bench-threads",
        prompt_version=tag,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        json_schema=SCHEMA,
        schema_name="bench",
        max_tokens=max_tokens,
    )
    started = time.perf_counter()
    response = llm.complete(request)
    extra = response.extra
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "tokens_in": response.tokens_in,
        "tokens_out": response.tokens_out,
        "prompt_tok_s": extra.get("prompt_tokens_per_s"),
        "gen_tok_s": extra.get("tokens_per_s"),
        "first_token_s": extra.get("first_token_s"),
        "cached_prompt_tokens": extra.get("cached_prompt_tokens"),
    }


def run_setting(
    threads: str | int, models_dir: Path, runs: int, max_tokens: int, cache_check: bool
) -> None:
    from clausewatch.llm.local import LocalLLM
    from clausewatch.llm.model_files import MODEL_SHA256
    from clausewatch.llm.shared_server import stop_server

    stop_server(MODEL_SHA256[:16])
    llm = LocalLLM(models_dir=models_dir, threads=threads, context_tokens=4096, idle_s=60)
    info = llm.start()
    print(
        f"\nthreads={threads}: server with {info.threads} thread(s) "
        f"({info.state.threads_reason}), loaded in {info.started_s:.1f} s"
    )
    speeds = []
    try:
        for run in range(1, runs + 1):
            result = ask(
                llm,
                f"Run {run} with {threads} threads. Summarise the clause as JSON.",
                CLAUSE,
                max_tokens,
                f"{threads}-{run}-{time.time_ns()}",
            )
            speeds.append(result["gen_tok_s"] or 0.0)
            print(f"  run {run}: {result}")
        print(f"  generation tokens/s, median of {runs}: {statistics.median(speeds):.2f}")
        if cache_check:
            print("\nprompt cache: the same long prefix twice, a different question each time")
            for n, question in enumerate(["Clause A: " + CLAUSE, "Clause B: " + CLAUSE[::-1]]):
                result = ask(llm, PREFIX, question, 16, f"cache-{n}-{time.time_ns()}")
                print(f"  {'first' if n == 0 else 'again'}: {result}")
    finally:
        llm.close()
        stop_server(MODEL_SHA256[:16])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--busy", type=int, default=1, help="CPU busy loops during the runs")
    parser.add_argument("--fixed", type=int, default=2, help="the fixed thread count to compare")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--models-dir", type=Path, default=None)
    args = parser.parse_args()

    os.environ["CLAUSEWATCH_LLM_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="clausewatch-bench-rt-")
    from clausewatch.core.settings import get_settings
    from clausewatch.llm import model_files

    models_dir = args.models_dir or get_settings().models_dir
    model_files.ensure_model_file(models_dir)
    context = multiprocessing.get_context("fork")
    stop = context.Event()
    loops = [context.Process(target=spin, args=(stop,), daemon=True) for _ in range(args.busy)]
    for loop in loops:
        loop.start()
    time.sleep(1.0)
    print(
        f"cpu count {os.cpu_count()}, {args.busy} busy loop(s), "
        f"load average {tuple(round(x, 1) for x in os.getloadavg())}"
    )
    try:
        run_setting("auto", models_dir, args.runs, args.max_tokens, cache_check=True)
        run_setting(args.fixed, models_dir, args.runs, args.max_tokens, cache_check=False)
    finally:
        stop.set()
        for loop in loops:
            loop.join(5)
    print(f"\nload average at the end {tuple(round(x, 1) for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
