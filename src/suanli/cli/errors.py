"""Expected failures and how the command line reports them.

:class:`SuanliGroup` is the root command's class: whatever a command raises that is an
expected failure (:class:`CliError`, the SDK's ``ApiError``, a service's ``SuanliError``,
a pydantic validation error of local input, a database error) becomes one line on
stderr, ``error: <message>``, and exit status 1. Usage errors stay Typer's (status 2).
"""

from __future__ import annotations

from typing import Any, NoReturn

import pydantic
import typer
from sqlalchemy.exc import SQLAlchemyError
from typer.core import TyperGroup

from suanli.kit.errors import SuanliError
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
        except ApiError as exc:
            fail(exc.message)
        except SuanliError as exc:
            fail(exc.message)
        except pydantic.ValidationError as exc:
            fail(describe_validation(exc))
        except SQLAlchemyError as exc:
            fail(describe_database(exc))
