"""All tables. Each concern has its own module; import them here so Alembic sees them."""

from storage.models.archive import (
    Change,
    Clause,
    Document,
    FetchAttempt,
    Snapshot,
    Version,
)
from storage.models.base import Base
from storage.models.drafts import Draft, DraftEvent, LLMCall, Run

__all__ = [
    "Base",
    "Change",
    "Clause",
    "Document",
    "Draft",
    "DraftEvent",
    "FetchAttempt",
    "LLMCall",
    "Run",
    "Snapshot",
    "Version",
]
