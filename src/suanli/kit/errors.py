"""The error tree. Every expected failure is a :class:`SuanliError` with an HTTP status.

::

    SuanliError (500)
    ├── BadRequestError (400)       input that parses but makes no sense
    │   └── ValidationError (422)   a field is out of range or unknown
    ├── AuthenticationError (401)   missing or unknown API key
    ├── PermissionDeniedError (403) key is valid but its role may not do this
    ├── NotFoundError (404)         no such object, or not yours (never 403: no leaks)
    ├── ConflictError (409)         the object's state forbids the change
    │   └── IdempotencyConflictError (409)  a key reused with a different body
    └── PaymentRequiredError (402)  not enough money in the wallet

The API turns each into ``{"error": {"code", "message"}}`` with its status; the CLI
prints the message on one line and exits 1.
"""

from __future__ import annotations

from typing import ClassVar


class SuanliError(Exception):
    """Root of every expected failure; ``status_code`` is what the API answers."""

    status_code: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequestError(SuanliError):
    """Raised when input parses but cannot be acted on."""

    status_code = 400
    code = "bad_request"


class ValidationError(BadRequestError):
    """Raised when a field is out of range, unknown or inconsistent with another."""

    status_code = 422
    code = "validation_error"


class AuthenticationError(SuanliError):
    """Raised when the API key is missing, malformed, unknown or revoked."""

    status_code = 401
    code = "unauthenticated"


class PermissionDeniedError(SuanliError):
    """Raised when a valid key's role lacks the scope an action needs."""

    status_code = 403
    code = "forbidden"


class NotFoundError(SuanliError):
    """Raised when an object does not exist or belongs to another tenant."""

    status_code = 404
    code = "not_found"

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident


class ConflictError(SuanliError):
    """Raised when an object's current state forbids the requested change."""

    status_code = 409
    code = "conflict"


class IdempotencyConflictError(ConflictError):
    """Raised when an Idempotency-Key is reused with a different request."""

    code = "idempotency_conflict"


class PaymentRequiredError(SuanliError):
    """Raised when a wallet cannot cover a hold or charge."""

    status_code = 402
    code = "insufficient_funds"
