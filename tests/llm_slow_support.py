"""The real model file, assembled once per test session and shared by the slow llm tests."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from clausewatch.llm import model_files


def shared_models_dir(factory: pytest.TempPathFactory) -> Path:
    """``<session tmp>/llm-models`` with the verified model (joined on first use)."""
    models_dir = factory.getbasetemp() / "llm-models"
    started = time.perf_counter()
    model_files.ensure_model_file(models_dir)
    seconds = time.perf_counter() - started
    print(f"\nmodel file ready ({model_files.MODEL_SIZE:,} bytes): {seconds:.1f} s")
    return models_dir


def link_model_into(models_dir: Path, target_dir: Path) -> Path:
    """Hard-link (or copy) the verified model and its check record into another workspace."""
    target_dir.mkdir(parents=True, exist_ok=True)
    source = model_files.model_path(models_dir)
    target = model_files.model_path(target_dir)
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
        model_files.verify(target)
        return target
    marker = source.with_name(source.name + ".verified")
    shutil.copy2(marker, target.with_name(marker.name))
    return target
