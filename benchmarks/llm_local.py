"""Local backend figures: model file preparation, server start-up, prompt and generation speed.

    .venv/bin/python benchmarks/llm_local.py [--runs 3] [--threads 2]

Uses the workspace's models directory (CLAUSEWATCH_HOME); speeds come from llama.cpp's own
counters, so they exclude HTTP and parsing. Calls bypass the cache. Text is written by us.
"""

from __future__ import annotations

import argparse
import json
import os
import time

CLAUSE = (
    "We may share information about how you use the assistant, including the prompts you "
    "submit and the outputs generated, with service providers who help us operate, secure and "
    "improve the service. These providers are bound by contract to use the information only on "
    "our behalf. We do not sell your personal information. You can opt out of having your "
    "conversations used to train our models in Settings; conversations are kept for 30 days "
    "for abuse monitoring and then deleted unless the law requires us to keep them longer."
)
SCHEMA = {
    "type": "object",
    "properties": {
        "summary": {"type": "string", "maxLength": 400},
        "categories": {
            "type": "array",
            "items": {
                "type": "string",
                "enum": ["data-sharing", "data-retention", "model-training", "user-rights"],
            },
            "maxItems": 3,
        },
        "exposure": {"type": "string", "enum": ["Low", "Medium", "High"]},
    },
    "required": ["summary", "categories", "exposure"],
    "additionalProperties": False,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()

    from clausewatch.core.settings import get_settings
    from clausewatch.llm import model_files
    from clausewatch.llm.base import LLMRequest
    from clausewatch.llm.local import LocalLLM, metrics

    settings = get_settings()
    threads: int | str = args.threads or settings.llm_threads
    started = time.perf_counter()
    model_files.ensure_model_file(settings.models_dir)
    prepare_s = time.perf_counter() - started
    llm = LocalLLM(models_dir=settings.models_dir, threads=threads, context_tokens=4096)
    info = llm.start()
    print(f"cpu count {os.cpu_count()}, load average {os.getloadavg()}")
    print(
        f"model file ready in {prepare_s:.1f} s; server start {info.started_s:.1f} s, "
        f"threads {info.threads} ({info.state.threads_reason})"
    )
    try:
        for run in range(1, args.runs + 1):
            request = LLMRequest(
                prompt_id="bench",
                prompt_version=str(run),  # different prompts: no llama.cpp prompt cache reuse
                messages=[
                    {"role": "system", "content": f"Run {run}. Summarise the clause as JSON."},
                    {"role": "user", "content": CLAUSE},
                ],
                json_schema=SCHEMA,
                schema_name="bench",
                max_tokens=300,
            )
            before = metrics(info.address)
            t0 = time.perf_counter()
            response = llm.complete(request)
            seconds = time.perf_counter() - t0
            after = metrics(info.address)

            def delta(
                name: str, a: dict[str, float] = after, b: dict[str, float] = before
            ) -> float:
                return a.get(name, 0.0) - b.get(name, 0.0)

            prompt_rate = delta("prompt_tokens_total") / max(delta("prompt_seconds_total"), 1e-9)
            gen_rate = delta("tokens_predicted_total") / max(
                delta("tokens_predicted_seconds_total"), 1e-9
            )
            valid = True
            try:
                json.loads(response.content)
            except ValueError:
                valid = False
            print(
                f"run {run}: {seconds:.1f} s, {response.tokens_in} tokens in at "
                f"{prompt_rate:.1f} tok/s, {response.tokens_out} out at {gen_rate:.1f} tok/s, "
                f"finish={response.extra.get('finish_reason')}, json={'ok' if valid else 'BAD'}"
            )
    finally:
        llm.close()


if __name__ == "__main__":
    main()
