"""The API's reference pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served whole
by this server: the pages, their JavaScript and CSS, and the script that starts Swagger UI.

FastAPI's own pages load Swagger UI and ReDoc from a CDN, so they stay blank on a network
that cannot reach it. Here the files come from the installed ``fastapi-offline`` package
and are served under ``/docs/static/`` (ReDoc's bundle at ``/docs/redoc.standalone.js``,
see :func:`redoc_js`); the pages name nothing but this server, carry no inline script,
and are sent with a Content-Security-Policy that lets the browser run scripts from this
server only.
"""

from __future__ import annotations

from functools import cache
from html import escape
from importlib import resources
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

DOCS = "/docs"
REDOC = "/redoc"
ASSETS = f"{DOCS}/static"
SWAGGER_INIT = f"{DOCS}/swagger-init.js"
REDOC_JS = f"{DOCS}/redoc.standalone.js"
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
"""The one outside address ReDoc's bundle asks for: the logo at the foot of its sidebar."""

CSP = (
    "default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; font-src 'self' data:; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
"""Only this server. Swagger UI and ReDoc set inline styles, hence ``'unsafe-inline'`` for
styles (never for scripts); ReDoc runs its search in a worker made from a ``blob:``."""

HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}

SWAGGER_INIT_JS = """\
// Starts Swagger UI on /docs. The page names the OpenAPI document in data-openapi.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
"""
"""Swagger UI's start, as a file of its own: the policy forbids inline scripts.
``validatorUrl: null`` keeps Swagger UI from asking an outside validator about the spec."""


def assets_dir() -> Path:
    """``swagger-ui-bundle.js``, ``swagger-ui.css`` and ``redoc.standalone.js``."""
    return Path(str(resources.files("fastapi_offline") / "static"))


@cache
def redoc_js() -> bytes:
    """ReDoc's bundle with its logo's address made an empty ``data:`` image, which ReDoc
    hides like any logo that does not load; the rest is the package's file as shipped."""
    text = (assets_dir() / "redoc.standalone.js").read_text(encoding="utf-8")
    return text.replace(REDOC_LOGO, "data:,").encode("utf-8")


class _Assets(StaticFiles):
    """The package's files, with the pages' policy, ``nosniff`` and a day's caching."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(HEADERS)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def _page(title: str, head: str, body: str) -> str:
    """An HTML page naming only this server: no inline script, no outside address."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} API reference</title>
<link rel="icon" href="data:,">
{head}
</head>
<body>
{body}
</body>
</html>
"""


def _swagger_page(title: str, root: str, openapi_url: str) -> str:
    assets = escape(root + ASSETS)
    return _page(
        title,
        f'<link rel="stylesheet" href="{assets}/swagger-ui.css">',
        f'<div id="swagger-ui" data-openapi="{escape(root + openapi_url)}"></div>\n'
        f'<script src="{assets}/swagger-ui-bundle.js"></script>\n'
        f'<script src="{escape(root + SWAGGER_INIT)}"></script>',
    )


def _redoc_page(title: str, root: str, openapi_url: str) -> str:
    return _page(
        title,
        "<style>body { margin: 0; padding: 0; }</style>",
        f'<redoc spec-url="{escape(root + openapi_url)}"></redoc>\n'
        f'<script src="{escape(root + REDOC_JS)}"></script>',
    )


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` for ``app`` (made with ``docs_url=None, redoc_url=None``)."""
    openapi_url = app.openapi_url or "/openapi.json"
    app.mount(ASSETS, _Assets(directory=assets_dir()), name="docs-static")

    @app.get(DOCS, include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", ""))
        return HTMLResponse(_swagger_page(app.title, root, openapi_url), headers=HEADERS)

    @app.get(SWAGGER_INIT, include_in_schema=False)
    def swagger_init() -> Response:
        return Response(
            SWAGGER_INIT_JS,
            media_type="text/javascript",
            headers={**HEADERS, "Cache-Control": "no-cache"},
        )

    @app.get(REDOC_JS, include_in_schema=False)
    def redoc_bundle() -> Response:
        return Response(
            redoc_js(),
            media_type="text/javascript",
            headers={**HEADERS, "Cache-Control": "public, max-age=86400"},
        )

    @app.get(REDOC, include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", ""))
        return HTMLResponse(_redoc_page(app.title, root, openapi_url), headers=HEADERS)
