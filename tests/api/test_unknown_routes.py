"""Routing's own answers (no such route, wrong method) come in suanli's error shape and
say where the API is, so a client can tell a suanli exchange from another server."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope="module")
def client(module_http: httpx.Client) -> httpx.Client:
    return module_http


@pytest.mark.parametrize("path", ["/v2/requests", "/v1/nothing-here", "/console/static/none.js"])
def test_an_unknown_route_is_a_404_in_suanli_shape(client: httpx.Client, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["code"] == "not_found"
    if not path.startswith("/console"):
        assert error["message"] == (
            f"no route GET {path} on this suanli exchange (the API is under /v1; see /docs)"
        )


def test_a_wrong_method_is_a_405_in_suanli_shape(client: httpx.Client) -> None:
    answer = client.delete("/healthz")
    assert answer.status_code == 405
    assert answer.json() == {
        "error": {"code": "method_not_allowed", "message": "DELETE is not allowed on /healthz"}
    }
