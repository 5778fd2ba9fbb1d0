"""The gate in front of the API: no call beyond its caller's rate limit, no request body
read before its caller is known, and none beyond :data:`MAX_BODY_BYTES`.

FastAPI reads and validates a body before any dependency runs, so without a gate an
anonymous client could make the server parse any body it liked, and answer it at length.
:class:`Gate` is an ASGI middleware that runs first:

0. A request under ``/v1/`` takes a token from its caller's bucket (its API key's, or
   its client address's without one; :mod:`suanli.api.limits`); with none left it is
   answered 429 with ``Retry-After`` at once, before any database work.
1. A request under ``/v1/`` that carries a body (``Content-Length`` above 0, or a
   chunked body) is authenticated from its ``Authorization`` header. A missing,
   malformed, unknown or revoked key is answered 401 at once, the body unread. The
   caller is kept in the request's state (:data:`PRINCIPAL`), so the endpoint does not
   look the key up a second time.
2. A body declared larger than the limit is answered 413 at once; a body of unknown
   length is counted as it is read and refused with 413 once it passes the limit.

Every answer comes in the API's error shape.
"""

from __future__ import annotations

from fastapi.security.utils import get_authorization_scheme_param
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from suanli.api.errors import error_body
from suanli.api.limits import RateLimiter, caller_of
from suanli.kit.errors import AuthenticationError
from suanli.orgs.auth import Principal
from suanli.orgs.service import authenticate
from suanli.store import Database

MAX_BODY_BYTES = 1 << 20
"""The largest request body, 1 MiB: the largest valid body of any route (a voucher
program listing 10,000 providers, a workload with 100 variables) is well below it."""

PRINCIPAL = "suanli_principal"
"""The key in a request's state under which the gate leaves the authenticated caller."""

API_PREFIX = "/v1/"


def presented_key(authorization: str | None) -> str | None:
    """The API key in an ``Authorization`` header: a bearer token, or the whole header
    when it is not one (for :func:`~suanli.orgs.service.authenticate` to explain)."""
    scheme, token = get_authorization_scheme_param(authorization)
    if scheme.lower() == "bearer" and token:
        return token
    return authorization or None


class BodyTooLargeError(HTTPException):
    """A body passed :data:`MAX_BODY_BYTES` while it was read (the app answers 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body too large: the limit is {limit} bytes")


def _too_large(limit: int, size: int | None = None) -> JSONResponse:
    said = f"request body of {size} bytes is too large" if size else "request body too large"
    return JSONResponse(
        error_body("payload_too_large", f"{said}: the limit is {limit} bytes"), status_code=413
    )


def limiter_of(scope: Scope) -> RateLimiter | None:
    """The rate limits of the app serving ``scope`` (its state's ``limiter``), if any."""
    state = getattr(getattr(scope.get("app"), "state", None), "suanli", None)
    limiter = getattr(state, "limiter", None)
    return limiter if isinstance(limiter, RateLimiter) else None


def _rate_limited(limiter: RateLimiter, wait: int, keyed: bool) -> JSONResponse:
    whose = "this API key" if keyed else "this address (no API key)"
    message = (
        f"too many requests from {whose}: at most {limiter.rate_per_s:g} a second, "
        f"{limiter.burst} at once; retry in {wait} s"
    )
    return JSONResponse(
        error_body("rate_limited", message), status_code=429, headers={"Retry-After": str(wait)}
    )


class Gate:
    """Limit each caller's rate under ``/v1/``; authenticate before reading a body
    there; cap every body's size."""

    def __init__(
        self,
        app: ASGIApp,
        db: Database,
        max_body_bytes: int = MAX_BODY_BYTES,
        limiter: RateLimiter | None = None,
    ) -> None:
        self.app = app
        self.db = db
        self.max_body_bytes = max_body_bytes
        self.limiter = limiter
        """The rate limits; by default the serving app's (:func:`limiter_of`)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        api = str(scope["path"]).startswith(API_PREFIX)
        key = presented_key(headers.get("authorization")) if api else None
        if api:
            limiter = self.limiter if self.limiter is not None else limiter_of(scope)
            if limiter is not None and (wait := limiter.take(caller_of(key, scope.get("client")))):
                await _rate_limited(limiter, wait, key is not None)(scope, receive, send)
                return
        length = _content_length(headers)
        if not length and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body: nothing to guard
            return
        if api:
            try:
                principal = await run_in_threadpool(self._authenticate, key)
            except AuthenticationError as exc:
                answer = JSONResponse(error_body(exc.code, exc.message), status_code=401)
                await answer(scope, receive, send)
                return
            scope.setdefault("state", {})[PRINCIPAL] = principal
        if length is not None and length > self.max_body_bytes:
            await _too_large(self.max_body_bytes, length)(scope, receive, send)
            return
        await self._counted(scope, receive, send)

    def _authenticate(self, key: str | None) -> Principal:
        with self.db.transaction(write=False) as session:
            return authenticate(session, key)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app with the body counted as it is read."""
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError(self.max_body_bytes)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLargeError:
            if started:
                raise
            await _too_large(self.max_body_bytes)(scope, receive, send)


def _content_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None
