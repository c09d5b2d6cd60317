"""Errors of the review workflow (all user-facing, one line each)."""

from __future__ import annotations

from clausewatch.core.errors import InputError


class ReviewError(InputError):
    """Base class of review failures."""


class NotFoundError(ReviewError):
    """No such draft or user."""


class ConflictError(ReviewError):
    """The draft changed since the caller read it (optimistic locking); nothing was written."""

    def __init__(self, draft_id: int, expected: int, current: int | None) -> None:
        self.draft_id = draft_id
        self.expected = expected
        self.current = current
        super().__init__(
            f"draft {draft_id} was changed by someone else since you opened it "
            f"(you had version {expected}, it is now version {current}); "
            "nothing was saved: reload the draft and apply your change again"
        )


class TransitionError(ReviewError):
    """The action is not allowed in the draft's current status."""


class FieldErrors(ReviewError):
    """The edited analysis does not validate; ``errors`` maps a field path to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        fields = ", ".join(sorted(errors))
        super().__init__(f"the analysis does not validate ({fields})")


class RateLimitedError(ReviewError):
    """Too many failed logins for this user name from this address."""

    def __init__(self, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(
            f"too many failed logins; try again in {max(1, retry_after_s // 60)} minute(s)"
        )
