"""The key that signs session cookies: settings.secret_key, else one generated and persisted."""

from __future__ import annotations

import secrets
from pathlib import Path

from clausewatch.core.errors import ConfigError
from clausewatch.core.files import atomic_write
from clausewatch.core.settings import Settings
from clausewatch.core.workspace import PRIVATE_FILE

KEY_FILE = "review-secret-key"
MIN_LENGTH = 32


def secret_key(settings: Settings) -> str:
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value()
        if len(key) < MIN_LENGTH:
            raise ConfigError(f"CLAUSEWATCH_SECRET_KEY must be at least {MIN_LENGTH} characters")
        return key
    path: Path = settings.ensure_home() / KEY_FILE
    if path.exists():
        key = path.read_text(encoding="utf-8").strip()
        if len(key) >= MIN_LENGTH:
            return key
    key = secrets.token_urlsafe(48)
    atomic_write(path, key + "\n", perm=PRIVATE_FILE)
    return key
