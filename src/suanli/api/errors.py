"""Turning errors into answers: a status code and ``{"error": {"code", "message"}}``.

Also what the OpenAPI document says about them: :class:`ErrorOut` is the shape,
:func:`errors` lists the answers a route's service may give (402, 403, 404, 409), and
:func:`document_errors` adds to every ``/v1`` operation the answers its request's shape
implies (401 without a key; 422 for bad input; 429 beyond the caller's rate limit; 400
and 413 where it takes a JSON body; 404 where its path names an object; 409 where it
creates, for a reused idempotency key).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException

from suanli.kit.errors import SuanliError

log = logging.getLogger("suanli.api")

MAX_PROBLEMS = 5
"""A validation error names at most this many problems, then says how many more."""
MAX_PROBLEM_CHARS = 300
"""Each problem's text is cut to this length (a field path can be long)."""


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    """Every 4xx answer: a stable code for programs, a message for people."""

    error: ErrorDetail


MEANINGS: dict[int, str] = {
    400: "malformed JSON body",
    401: "missing, malformed, unknown or revoked API key",
    402: "not enough money: the wallet or the earnings do not cover it",
    403: "this key's role may not do this",
    404: "no such object, or not yours",
    409: "a conflict: the object's state forbids the change, or a name or an "
    "Idempotency-Key is taken",
    413: "request body larger than the exchange accepts",
    422: "bad input, named in the message",
    429: "too many requests; retry later",
}


RETRY_AFTER = {
    "description": "whole seconds to wait before the next call (at least 1)",
    "schema": {"type": "integer", "minimum": 1},
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error codes, in the error shape."""
    return {code: {"model": ErrorOut, "description": MEANINGS[code]} for code in codes}


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def _printable(text: str) -> str:
    """``text`` with control characters and lone surrogates escaped (field names come
    from the client: a key of a JSON object is part of its path)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def _field(loc: Sequence[object]) -> str:
    parts = [_printable(str(p)) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _problem(error: dict[str, Any]) -> str:
    text = f"{_field(error['loc'])}: {_printable(str(error['msg']))}"
    if len(text) > MAX_PROBLEM_CHARS:
        text = text[: MAX_PROBLEM_CHARS - 3] + "..."
    return text


def validation_message(problems: Sequence[dict[str, Any]]) -> str:
    """The first :data:`MAX_PROBLEMS` problems, then how many more there were."""
    shown = [_problem(e) for e in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"and {len(problems) - MAX_PROBLEMS} more")
    return "; ".join(shown)


_OUT_OF_RANGE = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_KINDS = {"org": "organization"}


def _unknown_object(problems: Sequence[dict[str, Any]]) -> str | None:
    """``"lease 0 not found"`` when a path names an id out of range: no object has it."""
    for problem in problems:
        loc = tuple(problem["loc"])
        if len(loc) == 2 and loc[0] == "path" and problem["type"] in _OUT_OF_RANGE:
            name = str(loc[1])
            if name.endswith("_id"):
                kind = name.removesuffix("_id")
                return f"{_KINDS.get(kind, kind)} {_printable(str(problem['input']))} not found"
    return None


HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


def install(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        """Routing's own answers (no such route, wrong method) in suanli's shape."""
        if exc.status_code == 404 and exc.detail == "Not Found":
            message = f"no route {request.method} {request.url.path} on this suanli exchange"
            message += " (the API is under /v1; see /docs)"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, message), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(SuanliError)
    async def _suanli(_: Request, exc: SuanliError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        if any(e.get("type") == "json_invalid" for e in problems):
            detail = next(e for e in problems if e.get("type") == "json_invalid")
            ctx = detail.get("ctx") or {}
            return JSONResponse(
                error_body("malformed_json", f"malformed JSON body: {ctx.get('error', 'invalid')}"),
                status_code=400,
            )
        if (unknown := _unknown_object(problems)) is not None:
            return JSONResponse(error_body("not_found", unknown), status_code=404)
        return JSONResponse(
            error_body("validation_error", validation_message(problems)), status_code=422
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error: %s", exc.orig)
        return JSONResponse(
            error_body("conflict", "the change conflicts with existing data"), status_code=409
        )


# -- the OpenAPI document ----------------------------------------------------------------
_SCHEMAS = "#/components/schemas/"


def _answer(code: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": MEANINGS[code],
        "content": {"application/json": {"schema": {"$ref": f"{_SCHEMAS}ErrorOut"}}},
    }
    if code == 429:
        answer["headers"] = {"Retry-After": RETRY_AFTER}
    return answer


def _implied(operation: dict[str, Any]) -> list[int]:
    """The error answers an operation's request shape implies."""
    codes = [401, 422, 429]
    if "requestBody" in operation:
        codes += [400, 413]
    if "201" in operation.get("responses", {}):
        codes.append(409)  # a create: its Idempotency-Key reused with another body
    params = operation.get("parameters", [])
    if any(p["in"] == "path" and p["name"].endswith("_id") for p in params):
        codes.append(404)
    return codes


def document_errors(app: FastAPI, prefix: str = "/v1/") -> None:
    """Make ``app.openapi()`` list, on every operation under ``prefix``, the error answers
    its shape implies (see the module docstring), each in the error shape; FastAPI's own
    422 shape (``{"detail": [...]}``), which this API never sends, leaves the document."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = build()
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        shape = ErrorOut.model_json_schema(ref_template=_SCHEMAS + "{model}")
        schemas.update(shape.pop("$defs", {}))
        schemas["ErrorOut"] = shape
        for path, operations in document.get("paths", {}).items():
            if not path.startswith(prefix):
                continue
            for operation in operations.values():
                answers = operation.setdefault("responses", {})
                for code in _implied(operation):
                    if code == 422 or str(code) not in answers:
                        answers[str(code)] = _answer(code)
                operation["responses"] = dict(sorted(answers.items()))
        if not _uses(document, "HTTPValidationError"):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _uses(document: dict[str, Any], name: str) -> bool:
    """Whether any operation of ``document`` refers to the component ``name``."""
    return f'"{_SCHEMAS}{name}"' in json.dumps(document.get("paths", {}))
