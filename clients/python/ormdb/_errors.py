"""The errors of ormdb: one class per code of docs/reference/errors.md.

Every error is an ``ormdb.Error`` with ``code`` (``"CONSTRAINT_VIOLATION"``) and
``message``; catch the subclass of the code to act on it. ``retryable`` says
whether retrying the same request may succeed (CONFLICT, UNAVAILABLE).
"""

from __future__ import annotations

from typing import Dict, Type


class Error(Exception):
    """An ormdb error: ``code`` tells what to do, ``message`` what failed."""

    code: str = "UNKNOWN"
    retryable: bool = False

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidArgument(Error):
    """Fix the request: syntax, a bad parameter, value or cursor."""

    code = "INVALID_ARGUMENT"


class SchemaError(Error):
    """Fix the request: an unknown or mismatched name."""

    code = "SCHEMA_ERROR"


class NotFound(Error):
    """The row, directory or thing does not exist."""

    code = "NOT_FOUND"


class ConstraintViolation(Error):
    """The data would break a constraint (unique, check, reference)."""

    code = "CONSTRAINT_VIOLATION"


class Conflict(Error):
    """A concurrent change won: retry."""

    code = "CONFLICT"
    retryable = True


class BudgetExceeded(Error):
    """The fetch reached a budget limit: lower the fanout or raise the budget."""

    code = "BUDGET_EXCEEDED"


class MigrationRefused(Error):
    """A destructive schema change without consent (allow_destructive)."""

    code = "MIGRATION_REFUSED"


class PermissionDenied(Error):
    """The key may not do this."""

    code = "PERMISSION_DENIED"


class Unauthenticated(Error):
    """A missing or wrong key."""

    code = "UNAUTHENTICATED"


class HistoryLost(Error):
    """The version asked for (as_of, a cursor, a watch token) is below retention."""

    code = "HISTORY_LOST"


class ResourceExhausted(Error):
    """Map size, memory or queue limits reached."""

    code = "RESOURCE_EXHAUSTED"


class Unavailable(Error):
    """Retry later: shutting down, busy, locked, or the server did not answer."""

    code = "UNAVAILABLE"
    retryable = True


class Internal(Error):
    """A bug in ormdb or a damaged file: stop."""

    code = "INTERNAL"


ERROR_CLASSES: Dict[str, Type[Error]] = {
    cls.code: cls
    for cls in (
        InvalidArgument,
        SchemaError,
        NotFound,
        ConstraintViolation,
        Conflict,
        BudgetExceeded,
        MigrationRefused,
        PermissionDenied,
        Unauthenticated,
        HistoryLost,
        ResourceExhausted,
        Unavailable,
        Internal,
    )
}


def from_status(code: str, message: str) -> Error:
    """The error for a C++ Status (called by the native module)."""
    cls = ERROR_CLASSES.get(code)
    if cls is None:
        return Error(message, code)
    return cls(message)
