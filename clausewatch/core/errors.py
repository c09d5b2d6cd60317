"""Error types shared by every package. ``retryable`` says whether trying again may help."""

from __future__ import annotations


class ClausewatchError(Exception):
    """Base error: a one-line, user-facing reason."""

    retryable: bool = False


class InputError(ClausewatchError):
    """Bad input from the user or a document (missing file, empty, undecodable, too big)."""


class TransientError(ClausewatchError):
    """A failure that may succeed later (network, timeouts, busy servers)."""

    retryable = True


class ConfigError(ClausewatchError):
    """Settings or declarations are wrong."""
