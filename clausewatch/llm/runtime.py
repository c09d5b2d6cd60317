"""The per-user runtime folder shared by every clausewatch process of this user.

``CLAUSEWATCH_LLM_RUNTIME_DIR`` if set, else ``$XDG_RUNTIME_DIR/clausewatch/llm`` (a private,
per-login tmpfs on most Linux systems), else ``~/.cache/clausewatch/llm``. It holds the shared
local model server's lock, address and queue files, and the last measured LLM speed. Created
with mode 0700.
"""

from __future__ import annotations

import os
from pathlib import Path


def runtime_dir() -> Path:
    explicit = os.environ.get("CLAUSEWATCH_LLM_RUNTIME_DIR")
    if explicit:
        path = Path(explicit)
    elif os.environ.get("XDG_RUNTIME_DIR"):
        path = Path(os.environ["XDG_RUNTIME_DIR"]) / "clausewatch" / "llm"
    else:
        path = Path.home() / ".cache" / "clausewatch" / "llm"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
