"""Test helpers for the vector store: a counting embedder, small documents, a chroma server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import numpy as np

from clausewatch.vectorstore.embeddings import Embedder, Vectors, get_embedder

# Policies written for these tests (not taken from any platform).
ALPHA_TOS = """# Alpha Terms

## Disputes

Any dispute between you and Alpha will be resolved by binding individual arbitration, and you
waive any right to take part in a class action.

## Data

We keep your chat history for 30 days after you delete it, then erase it from our systems.

We use the content you submit to train and improve our language models unless you opt out.
"""

BETA_TOS = """# Beta Terms

## Arbitration

Claims against Beta must be settled through confidential arbitration on an individual basis;
class or representative proceedings are not allowed.

## Retention

Beta retains account data for as long as your account is open and deletes it within 60 days
of closure.

## Children

Beta is not meant for children under 13 and we do not knowingly collect their data.
"""

GAMMA_PRIVACY = """# Gamma Privacy Policy

## Children

Our services are not directed to anyone under the age of 13; if we learn a child gave us
personal information we delete it.

## Model improvement

Conversations may be used to train our models; you can turn this off in your settings.
"""


class CountingEmbedder:
    """Wraps the real embedder and counts the texts it was asked to embed."""

    def __init__(self, inner: Embedder | None = None) -> None:
        self.inner = inner or get_embedder()
        self.name = self.inner.name
        self.dim = self.inner.dim
        self.calls = 0
        self.texts = 0

    def embed(self, texts: list[str]) -> Vectors:
        self.calls += 1
        self.texts += len(texts)
        return self.inner.embed(texts)


def record(platform: str, doc_type: str, markdown: str, date: str) -> None:
    """Record a version through the archive (segmentation + alignment included)."""
    from clausewatch.archive.store import get_or_create_document, record_version
    from clausewatch.storage.db import session_scope

    with session_scope() as session:
        doc = get_or_create_document(session, platform, doc_type)
        record_version(session, doc, markdown, datetime.fromisoformat(date), source="import")


def seed_small_archive() -> None:
    record("alpha", "terms_of_service", ALPHA_TOS, "2025-01-01")
    record("beta", "terms_of_service", BETA_TOS, "2025-02-01")
    record("gamma", "privacy_policy", GAMMA_PRIVACY, "2025-03-01")


def unit(v: Vectors) -> bool:
    return bool(np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def chroma_server(path: Path) -> Iterator[str]:
    """``chroma run`` on loopback; yields its URL."""
    exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    port = free_port()
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"chroma run exited with {proc.returncode}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            raise RuntimeError("chroma run did not start within 60 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
