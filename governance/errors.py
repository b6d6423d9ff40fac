"""The one application error type: errors a person can act on.

Services raise these; ``config.exceptions.exception_handler`` renders every one of them as
``{"error": {"code", "message", "details"}}`` with the status below. Command-line entry points
print the message and exit non-zero.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details if details is not None else {}


class InvalidInput(ApplicationError):
    status_code = 400
    default_code = "invalid"


class NotFound(ApplicationError):
    status_code = 404
    default_code = "not_found"


class Forbidden(ApplicationError):
    status_code = 403
    default_code = "forbidden"


class Conflict(ApplicationError):
    status_code = 409
    default_code = "conflict"
