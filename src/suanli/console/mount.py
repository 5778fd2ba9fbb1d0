"""Serving the console's files, Plotly's JavaScript and the province grid."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from suanli.console.provinces import province_tiles

STATIC = Path(str(resources.files("suanli.console") / "static"))
PREFIX = "/console"
CSP = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data: blob:; "
    "style-src 'self' 'unsafe-inline'; font-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
"""Only this server: the browser itself refuses anything else. Plotly writes inline
styles, hence ``'unsafe-inline'`` for styles (never for scripts)."""


def plotly_js() -> Path:
    """plotly.min.js from the installed ``plotly`` package."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def mount_console(app: FastAPI) -> None:
    """Serve the console at ``/console/`` and send ``/`` there."""
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")

    @app.middleware("http")
    async def policy(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        if request.url.path.startswith(PREFIX):
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.get(PREFIX, include_in_schema=False)
    def console_bare() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/")

    @app.get(f"{PREFIX}/", include_in_schema=False)
    def console_page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get(f"{PREFIX}/vendor/plotly.min.js", include_in_schema=False)
    def plotly() -> FileResponse:
        return FileResponse(
            plotly_js(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get(f"{PREFIX}/provinces.json", include_in_schema=False)
    def provinces() -> list[dict[str, object]]:
        return province_tiles()
