"""All tables. Each concern has its own module; import them here so Alembic sees them."""

from clausewatch.storage.models.archive import (
    Change,
    Clause,
    Document,
    FetchAttempt,
    Snapshot,
    Version,
)
from clausewatch.storage.models.base import Base
from clausewatch.storage.models.claims import DraftClaim
from clausewatch.storage.models.drafts import Draft, DraftEvent, LLMCall, Run, RunLock
from clausewatch.storage.models.publication import Delivery, Subscriber
from clausewatch.storage.models.review import LoginAttempt, ReviewSession, User

__all__ = [
    "Base",
    "Change",
    "Clause",
    "Delivery",
    "Document",
    "Draft",
    "DraftClaim",
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
