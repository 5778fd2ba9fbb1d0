"""``/docs`` and ``/redoc`` as served (no browser): every file they name is on this server,
answers 200 with a script or stylesheet type, and no page carries an inline script."""

from __future__ import annotations

import re

import httpx
import pytest

from suanli.api.docs import REDOC_LOGO


@pytest.fixture(scope="module")
def client(module_http: httpx.Client) -> httpx.Client:
    return module_http


def refs(html: str) -> list[str]:
    return re.findall(r'(?:src|href|spec-url|data-openapi)="([^"]+)"', html)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_page_names_only_this_server(client: httpx.Client, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy
    assert "unsafe-eval" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert not re.search(r"https?://", page.text), page.text
    assert not re.search(r"//[\w.-]+\.\w", page.text.replace("http://", "")), page.text
    # scripts only from files: no inline <script> body
    for script in re.findall(r"<script\b[^>]*>(.*?)</script>", page.text, flags=re.S):
        assert script.strip() == "", script
    for ref in refs(page.text):
        assert (ref.startswith("/") and not ref.startswith("//")) or ref == "data:,", ref


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_every_file_the_page_names_answers(client: httpx.Client, path: str) -> None:
    page = client.get(path)
    kinds = {".js": "text/javascript", ".css": "text/css", ".json": "application/json"}
    named = [r for r in refs(page.text) if r != "data:,"]
    assert named
    for ref in named:
        got = client.get(ref)
        assert got.status_code == 200, ref
        kind = next(v for k, v in kinds.items() if ref.endswith(k))
        assert got.headers["content-type"].startswith(kind), (ref, got.headers)
        assert len(got.content) > 100, ref


def test_the_assets(client: httpx.Client) -> None:
    for name, kind in [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("redoc.standalone.js", "text/javascript"),
    ]:
        got = client.get(f"/docs/static/{name}")
        assert got.status_code == 200, name
        assert got.headers["content-type"].startswith(kind), name
        assert got.headers["x-content-type-options"] == "nosniff"
    assert client.get("/docs/static/nothing.js").status_code == 404
    init = client.get("/docs/swagger-init.js")
    assert init.headers["content-type"].startswith("text/javascript")
    assert "SwaggerUIBundle(" in init.text and "validatorUrl: null" in init.text
    redoc = client.get("/docs/redoc.standalone.js")
    assert REDOC_LOGO not in redoc.text and "Redoc" in redoc.text


def test_the_api_description_still_lists_the_operations(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "suanli"
    assert "/healthz" in spec["paths"]
    assert not any(p.startswith(("/docs", "/redoc")) for p in spec["paths"])
