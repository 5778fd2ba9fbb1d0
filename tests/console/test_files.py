"""The console's files as served (no browser): the page, its policy, Plotly from the
package, the province grid, and labels in both languages for every key the pages use."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from suanli.catalog.regions import PROVINCES
from suanli.console.mount import STATIC
from suanli.console.provinces import GRID


@pytest.fixture(scope="module")
def client(module_http: httpx.Client) -> httpx.Client:
    return module_http


def test_the_page_and_its_policy(client: httpx.Client) -> None:
    assert client.get("/").headers["location"] == "/console/"
    assert client.get("/console").headers["location"] == "/console/"
    page = client.get("/console/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy
    # every script and stylesheet the page names is on this server
    for ref in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert ref.startswith("/console/") or ref == "data:,", ref
        if ref.startswith("/console/"):
            assert client.get(ref).status_code == 200, ref
    js = client.get("/console/static/js/app.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert client.get("/console/static/js/nope.js").status_code == 404


def test_plotly_comes_from_the_installed_package(client: httpx.Client) -> None:
    response = client.get("/console/vendor/plotly.min.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert len(response.content) > 1_000_000 and b"plotly" in response.content[:2000].lower()


def test_no_file_names_a_host() -> None:
    """No page or script refers to anything outside the server it came from."""
    for path in STATIC.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"https?://", text), path


def test_every_province_has_a_tile_of_its_own(client: httpx.Client) -> None:
    tiles = client.get("/console/provinces.json").json()
    assert {t["name"] for t in tiles} == set(PROVINCES) == set(GRID)
    assert len({(t["row"], t["col"]) for t in tiles}) == len(tiles)
    assert all(t["name_en"] and t["region"] for t in tiles)


def _words() -> dict[str, int]:
    text = (STATIC / "js" / "i18n.js").read_text(encoding="utf-8")
    entries = re.findall(r'^\s*"([^"]+)": \[(".*"), (".*")\],$', text, flags=re.M)
    return {key: 2 for key, zh, en in entries if zh.strip('"') and en.strip('"')}


def test_every_label_the_pages_use_exists_in_both_languages() -> None:
    words = _words()
    assert len(words) > 100
    used: set[str] = set()
    for path in (STATIC / "js").rglob("*.js"):
        used |= set(re.findall(r'\bt\("([a-z]+\.[A-Za-z.]+)"\)', path.read_text("utf-8")))
    missing = sorted(used - set(words))
    assert not missing, f"labels without both languages: {missing}"


@pytest.mark.parametrize(
    ("prefix", "values"),
    [
        ("status", ["queued", "placed", "finished", "cancelled", "running", "applied"]),
        ("region", sorted({region for _, region in PROVINCES.values()})),
        ("flag", ["price_above_index", "underused", "money_flowback"]),
        ("role", ["operator", "buyer", "provider", "issuer"]),
    ],
)
def test_labels_built_from_values(prefix: str, values: list[str]) -> None:
    words = _words()
    assert [v for v in values if f"{prefix}.{v}" not in words] == []


def test_files_ship_with_the_package() -> None:
    assert (STATIC / "index.html").is_file()
    assert Path(STATIC).name == "static"
