"""The real local backend: join the 22 parts, check the sha256, run xllamacpp's server, ask it.

Slow (a 1.1 GB file and a 1.5B model on CPU); runs in CI. Timings are printed (``-s``), never
asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from llm_slow_support import shared_models_dir

from clausewatch.core.files import sha256_file
from clausewatch.llm import model_files
from clausewatch.llm.base import LLMRequest
from clausewatch.llm.calls import complete_logged
from clausewatch.llm.local import LocalLLM, metrics
from clausewatch.llm.probe import probe_definition, run_probe
from clausewatch.llm.runtime import runtime_dir
from clausewatch.llm.schemas import validation_errors
from clausewatch.llm.shared_server import stop_server

pytestmark = pytest.mark.slow
KEY = model_files.MODEL_SHA256[:16]

CLAUSE_IDS = ["c-001", "c-002", "c-003"]
CHOICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "clause_id": {"type": "string", "enum": CLAUSE_IDS},
        "reason": {"type": "string", "maxLength": 120},
    },
    "required": ["clause_id", "reason"],
    "additionalProperties": False,
}
CHOICE_MESSAGES = [
    {"role": "system", "content": "You pick the clause that answers a question. JSON only."},
    {
        "role": "user",
        "content": (
            "Clauses:\n"
            "c-001: We use cookies to remember your language.\n"
            "c-002: We keep conversation logs for 30 days, then delete them.\n"
            "c-003: Payments are processed by our billing partner.\n"
            "Question: which clause says how long conversations are stored?"
        ),
    },
]


@pytest.fixture(scope="module")
def local_llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalLLM]:
    models_dir = shared_models_dir(tmp_path_factory)
    stop_server(KEY)  # a server left by an earlier test would have other settings
    llm = LocalLLM(models_dir=models_dir, context_tokens=4096, retries=1)
    info = llm.start()
    print(
        f"server start (load + health): {info.started_s:.1f} s at {info.address}, "
        f"threads {info.threads} ({info.state.threads_reason})"
    )
    yield llm
    llm.close()
    stop_server(KEY)


def test_model_file_matches_pinned_hash(local_llm: LocalLLM) -> None:
    path = model_files.model_path(local_llm.models_dir)
    assert path.stat().st_size == model_files.MODEL_SIZE
    assert sha256_file(path) == model_files.MODEL_SHA256
    assert model_files.status(local_llm.models_dir).verified
    assert not [p for p in local_llm.models_dir.iterdir() if p.suffix == ".part"]


def test_probe_answer_is_valid_json_in_the_enum(local_llm: LocalLLM) -> None:
    result = run_probe(local_llm)
    print(
        f"probe: {result['seconds']} s, {result['tokens_in']} tokens in, "
        f"{result['tokens_out']} out, prompt {result['prompt_tok_s']} tok/s, "
        f"generation {result['generation_tok_s']} tok/s, answer {result['answer']}"
    )
    assert result["valid"], result["validation_errors"]
    answer = json.loads(result["answer"])
    allowed = probe_definition()["json_schema"]["properties"]["topic"]["enum"]
    assert answer["topic"] in allowed
    assert isinstance(answer["about_user_data"], bool)
    assert result["tokens_in"] > 20 and result["tokens_out"] > 3


def test_enum_choice_through_complete_logged(local_llm: LocalLLM, workspace: Path) -> None:
    request = LLMRequest(
        prompt_id="slow-test-choice",
        prompt_version="1",
        messages=CHOICE_MESSAGES,
        json_schema=CHOICE_SCHEMA,
        schema_name="choice",
        max_tokens=120,
    )
    assert local_llm.address is not None
    before = metrics(local_llm.address)
    response = complete_logged(local_llm, request)
    after = metrics(local_llm.address)
    prompt_n = after["prompt_tokens_total"] - before["prompt_tokens_total"]
    prompt_s = after["prompt_seconds_total"] - before["prompt_seconds_total"]
    gen_n = after["tokens_predicted_total"] - before["tokens_predicted_total"]
    gen_s = after["tokens_predicted_seconds_total"] - before["tokens_predicted_seconds_total"]
    print(
        f"choice: {response.latency_ms} ms, prompt {prompt_n:.0f} tokens at "
        f"{prompt_n / prompt_s:.1f} tok/s, generation {gen_n:.0f} tokens at "
        f"{gen_n / gen_s:.1f} tok/s, answer {response.content}"
    )
    assert validation_errors(response.content, CHOICE_SCHEMA) == []
    assert json.loads(response.content)["clause_id"] in CLAUSE_IDS
    assert response.extra["outcome"] == "ok" and response.extra["usage_reported"]
    assert response.tokens_in == prompt_n + (
        after["prompt_tokens_cached_total"] - before["prompt_tokens_cached_total"]
    )
    again = complete_logged(local_llm, request)
    assert again.cached and again.content == response.content


def test_two_processes_share_the_one_real_server(local_llm: LocalLLM) -> None:
    """Two more clausewatch-like processes ask the real model: nobody loads a second copy."""
    tests = Path(__file__).resolve().parent
    model = model_files.model_path(local_llm.models_dir)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests.parent), str(tests)])}
    command = [sys.executable, str(tests / "shared_server_client.py"), str(model), "300"]
    clients = [
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    outputs = []
    for client in clients:
        out, err = client.communicate(timeout=600)
        assert client.returncode == 0, err
        outputs.append(json.loads(out.strip().splitlines()[-1]))
    assert local_llm.info is not None
    assert {o["pid"] for o in outputs} == {local_llm.info.state.pid}
    assert not any(o["started_here"] for o in outputs)
    assert all(json.loads(o["answer"])["label"] in ("privacy", "billing") for o in outputs)
    daemons = [
        p
        for p in psutil.process_iter(["cmdline"])
        if "clausewatch.llm.server_daemon" in (p.info["cmdline"] or [])
        and KEY in (p.info["cmdline"] or [])
        and runtime_dir().as_posix() in (p.info["cmdline"] or [])
    ]
    assert [p.pid for p in daemons] == [local_llm.info.state.pid]  # one model copy loaded
