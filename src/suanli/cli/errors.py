"""Expected failures and how the command line reports them.

:class:`SuanliGroup` is the root command's class: whatever a command raises that is an
expected failure (:class:`CliError`, the SDK's ``ApiError``, a service's ``SuanliError``,
a pydantic validation error of local input, a database error) becomes one line on
stderr, ``error: <message>``, and exit status 1. Usage errors stay Typer's (status 2).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from typer.core import TyperGroup

from suanli.kit.errors import SuanliError

if TYPE_CHECKING:
    import pydantic
    from sqlalchemy.exc import SQLAlchemyError

    from suanli.sdk.client import ApiError


class CliError(Exception):
    """Raised for bad local input or configuration; the message is shown as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def one_line(message: str) -> str:
    """Collapse a message onto one line."""
    return " ".join(message.split()) or "unknown error"


def describe_validation(exc: pydantic.ValidationError) -> str:
    """``field: problem; other: problem`` for a pydantic error on local input."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)


def describe_database(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None)
    detail = str(original if original is not None else exc).splitlines()[0]
    return f"database error: {detail}"


START_HINT = "is the exchange running? start one with `suanli serve` or `suanli demo`"


def describe_api(exc: ApiError) -> str:
    """The SDK's message; for an exchange that cannot be reached, what to do about it.
    (``no suanli API at URL (...)`` for a server that is not suanli is the SDK's own.)"""
    from suanli.sdk.client import UnreachableError

    if isinstance(exc, UnreachableError):
        if exc.kind in ("unknown_host", "bad_url"):
            return f"{exc.message}; check --url (or the profile's url)"
        return f"{exc.message}; {START_HINT}"
    return exc.message


def fail(message: str) -> NoReturn:
    """Print ``error: <message>`` on stderr and exit with status 1."""
    typer.echo(f"error: {one_line(message)}", err=True)
    raise typer.Exit(1)


class SuanliGroup(TyperGroup):
    """The root group: turns expected failures of any subcommand into one line."""

    def invoke(self, ctx: Any) -> Any:  # Any: typer's (vendored) click.Context
        try:
            return super().invoke(ctx)
        except CliError as exc:
            fail(exc.message)
        except SuanliError as exc:
            fail(exc.message)
        except Exception as exc:
            message = describe_expected(exc)
            if message is None:
                raise
            fail(message)


def describe_expected(exc: Exception) -> str | None:
    """The message for an expected failure from the SDK, pydantic or the database; None
    for anything else.

    Only modules already imported are consulted: an exception of a library that was
    never imported cannot have been raised, and importing the SDK or the database layer
    here would slow down every command, ``--help`` included.
    """
    if "suanli.sdk.client" in sys.modules:
        from suanli.sdk.client import ApiError

        if isinstance(exc, ApiError):
            return describe_api(exc)
    if "pydantic" in sys.modules:
        import pydantic

        if isinstance(exc, pydantic.ValidationError):
            return describe_validation(exc)
    if "sqlalchemy.exc" in sys.modules:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(exc, SQLAlchemyError):
            return describe_database(exc)
    return None
