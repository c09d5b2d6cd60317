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
from storage.models.publication import Delivery, Subscriber

__all__ = [
    "Base",
    "Change",
    "Clause",
    "Delivery",
    "Document",
    "Draft",
    "DraftEvent",
    "FetchAttempt",
    "LLMCall",
    "Run",
    "Snapshot",
    "Subscriber",
    "Version",
]
