"""The key that signs session cookies: settings.secret_key, else one generated and persisted."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from clausewatch.core.errors import ConfigError
from clausewatch.core.settings import Settings

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
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key + "\n")
    os.replace(tmp, path)
    return key
