"""Where classifier models live: ``<home>/models/classifier/``.

``trained.joblib`` is written by ``clausewatch classifier train``; ``default-<hash>.joblib``
is the shipped default, trained from ``clausewatch/classifier/examples`` at first use (a second
or two) and cached under a hash of the examples and the training code, so editing them retrains.
Models are pickles: only files this project wrote in the workspace are ever loaded.
"""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

import joblib

from clausewatch.classifier.data import EXAMPLES_DIR, load_examples
from clausewatch.classifier.model import ClauseClassifier, TrainParams
from clausewatch.core.errors import ConfigError
from clausewatch.core.files import atomic_open, atomic_write
from clausewatch.core.settings import get_settings
from clausewatch.core.workspace import PRIVATE_FILE

FORMAT_VERSION = "1"
_lock = threading.Lock()
_cache: dict[str, tuple[float, ClauseClassifier]] = {}


def model_dir() -> Path:
    return get_settings().models_dir / "classifier"


def trained_path() -> Path:
    return model_dir() / "trained.joblib"


def _default_key() -> str:
    digest = hashlib.sha256(FORMAT_VERSION.encode())
    for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update((Path(__file__).parent / "model.py").read_bytes())
    return digest.hexdigest()[:16]


def default_path() -> Path:
    return model_dir() / f"default-{_default_key()}.joblib"


def save(model: ClauseClassifier, path: Path) -> Path:
    """Write atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(path, perm=PRIVATE_FILE) as fh:
        joblib.dump(model, fh)
    atomic_write(path.with_suffix(".json"), json.dumps(model.meta, indent=2))
    return path


def load(path: Path) -> ClauseClassifier:
    mtime = path.stat().st_mtime
    hit = _cache.get(str(path))
    if hit and hit[0] == mtime:
        return hit[1]
    try:
        model = joblib.load(path)
    except Exception as exc:  # a corrupt or foreign file
        raise ConfigError(f"{path}: cannot load classifier model: {exc}") from exc
    if not isinstance(model, ClauseClassifier):
        raise ConfigError(f"{path}: not a clausewatch classifier model")
    _cache[str(path)] = (mtime, model)
    return model


def train_default() -> ClauseClassifier:
    model = ClauseClassifier(params=TrainParams(min_df=1, tune_thresholds=True)).fit(
        load_examples()
    )
    model.meta.update({"kind": "default", "sources": ["clausewatch/classifier/examples"]})
    return model


def default_model() -> ClauseClassifier:
    path = default_path()
    with _lock:
        if not path.exists():
            save(train_default(), path)
    return load(path)


def current_model() -> ClauseClassifier:
    """The workspace's trained model if there is one, else the shipped default."""
    path = trained_path()
    if path.exists():
        return load(path)
    return default_model()


def current_kind() -> str:
    return "trained" if trained_path().exists() else "default"
