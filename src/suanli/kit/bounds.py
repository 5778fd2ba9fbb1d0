"""Bounds on what the outside world may send: ids, amounts of money and text.

Every number and string that reaches the database through the API has a stated upper
bound, checked at the edge, so a bad value is a 422 naming the field and never an error
of the database (PostgreSQL refuses an ``INTEGER`` above 2**31 - 1 and a string with a
NUL character; SQLite stores both). The types here carry their bound into pydantic's
check and into the OpenAPI document at once:

* :data:`Id` -- an object's id, 1 to :data:`MAX_ID`.
* :data:`MAX_FEN` -- the largest single amount of money; fields say so in their
  descriptions with :data:`FEN_BOUND`.
* :data:`Line` -- one line of text (names, labels, codes): no control characters.
* :data:`Text` -- free text (reasons, purposes, commands): tabs and line breaks allowed,
  no other control characters.
* :data:`Instant` -- a moment with its time zone, in the years :data:`YEARS` (so that
  no arithmetic on it or its conversion to UTC can leave the calendar).

Lone UTF-16 surrogates never get this far: pydantic refuses them as invalid strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import AfterValidator, AwareDatetime, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

MAX_ID = 2**31 - 1
"""The largest id: primary keys are ``INTEGER`` columns (4 bytes on PostgreSQL)."""

Id = Annotated[int, Ge(1), Le(MAX_ID)]
"""An object's id: 1 to :data:`MAX_ID`."""

MAX_FEN = 10**12
"""The largest single amount of money, in fen: ¥10,000,000,000 (a top-up, a payout, a
voucher budget, grant or cap). Ledger columns are ``BIGINT`` (to 9.2 x 10**18 fen), so
no sum of such amounts comes near overflowing them."""

FEN_BOUND = "at most 10^12 fen (¥10,000,000,000)"
"""How a money field's description states :data:`MAX_FEN`."""

_NOT_IN_LINE = r"\x00-\x1f\x7f-\x9f"
"""C0 controls (NUL, tab, line breaks, escape, ...), DEL and the C1 controls."""
_NOT_IN_TEXT = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
"""The same, less tab, line feed and carriage return."""
_CONTROL_LINE = re.compile(f"[{_NOT_IN_LINE}]")
_CONTROL_TEXT = re.compile(f"[{_NOT_IN_TEXT}]")


def _where(match: re.Match[str]) -> str:
    return f"U+{ord(match.group()):04X} at position {match.start()}"


def _one_line(value: str) -> str:
    if found := _CONTROL_LINE.search(value):
        raise ValueError(
            f"must be one line of printable text; found control character {_where(found)}"
        )
    return value


def _free_text(value: str) -> str:
    if found := _CONTROL_TEXT.search(value):
        raise ValueError(
            "must be printable text (tabs and line breaks allowed); found control character "
            + _where(found)
        )
    return value


@dataclass(frozen=True, slots=True)
class _Pattern:
    """States a string's allowed characters in its JSON schema (the OpenAPI document)."""

    pattern: str

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema: dict[str, Any] = handler(core_schema)
        schema["pattern"] = self.pattern
        return schema


Line = Annotated[str, AfterValidator(_one_line), _Pattern(f"^[^{_NOT_IN_LINE}]*$")]
"""One line of text: a name, label, code or place. No control characters at all."""

Text = Annotated[str, AfterValidator(_free_text), _Pattern(f"^[^{_NOT_IN_TEXT}]*$")]
"""Free text: a reason, purpose, memo or command. Tabs and line breaks are allowed; no
other control characters."""


YEARS = range(1900, 3000)
"""The years a moment sent to the API may fall in."""


def plausible_time(value: datetime) -> datetime:
    """``value`` if its year is one of :data:`YEARS` (a validator for moments)."""
    if value.year not in YEARS:
        raise ValueError(f"must lie in the years {YEARS.start} to {YEARS.stop - 1}")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(plausible_time)]
"""A moment with a time zone (``Z`` or ``+08:00``), in the years 1900 to 2999."""
