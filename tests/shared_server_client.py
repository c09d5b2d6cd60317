"""One clausewatch-like process using the shared local server with the fake engine.

    python tests/shared_server_client.py MODEL_PATH IDLE_S [FAKE_KEY]

With FAKE_KEY: the stand-in engine under that key; without: the real pinned model.
Prints one JSON line: the server's pid and URL, whether this process started it, the answer.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from clausewatch.llm.base import LLMRequest
from clausewatch.llm.local import LocalLLM


def main() -> None:
    model_path, idle_s = Path(sys.argv[1]), float(sys.argv[2])
    if len(sys.argv) > 3:
        key = sys.argv[3]
        llm = LocalLLM(
            models_dir=model_path.parent,
            model_path=model_path,
            model_sha256=key * 4,
            engine="fake_llm_engine:start",
            idle_s=idle_s,
            threads=1,
            start_timeout_s=60,
        )
    else:
        llm = LocalLLM(models_dir=model_path.parent, idle_s=idle_s, context_tokens=4096)
    request = LLMRequest(
        prompt_id="p",
        prompt_version="1",
        messages=[{"role": "user", "content": "label this"}],
        json_schema={
            "type": "object",
            "properties": {"label": {"type": "string", "enum": ["privacy", "billing"]}},
            "required": ["label"],
        },
        max_tokens=20,
    )
    info = llm.start()
    answer = llm.complete(request).content
    llm.close()
    print(
        json.dumps(
            {
                "pid": info.state.pid,
                "url": info.address,
                "started_here": info.started_here,
                "answer": answer,
            }
        )
    )


if __name__ == "__main__":
    main()
