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
from storage.models.drafts import Draft, DraftEvent, LLMCall, Run, RunLock
from storage.models.publication import Delivery, Subscriber
from storage.models.review import LoginAttempt, ReviewSession, User

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
    "LoginAttempt",
    "ReviewSession",
    "Run",
    "RunLock",
    "Snapshot",
    "Subscriber",
    "User",
    "Version",
]
