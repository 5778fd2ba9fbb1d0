"""Each role logs in and does its main flow in a real browser, on the demo's data.

Every test also checks (through the ``guarded`` fixture) that the page asked for nothing
outside the server and raised no JavaScript error, and saves a screenshot of the role's
main page under ``artifacts/console/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect
from tests.console.conftest import Demo, Guarded, login, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("console")]


def number(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text.split("/")[0]) or 0)


def roomy_model(demo: Demo, cards: int) -> str:
    """A model with a pool that has ``cards`` free on one node right now."""
    with api(demo, "buyer") as buyer:
        offers = buyer.get("/v1/offers", params={"min_free": cards}).json()
    fits = [o for o in offers if o["cards_per_node"] >= cards]
    assert fits, "the demo has free capacity"
    return str(min(fits, key=lambda o: (o["price_fen"], o["pool_id"]))["model"])


def subsidized_offer(demo: Demo, cards: int) -> tuple[str, str]:
    """(model, province) of a pool where ``cards`` fit on one node now and the buyer's
    voucher pays part of the bill (the quote says so)."""
    with api(demo, "buyer") as buyer:
        offers = buyer.get("/v1/offers", params={"min_free": cards}).json()
        for o in sorted(offers, key=lambda o: (o["price_fen"], o["pool_id"])):
            if o["cards_per_node"] < cards:
                continue
            body = {
                "cards": cards,
                "duration_s": 7200,
                "accepted_models": [o["model"]],
                "provinces": [o["province"]],
            }
            quote = buyer.post("/v1/quotes", json=body).json()
            if quote["placeable"] and quote["voucher_fen"] > 0:
                return str(o["model"]), str(o["province"])
    raise AssertionError("no pool where the demo buyer's voucher applies")


def api(demo: Demo, role: str) -> httpx.Client:
    return httpx.Client(
        base_url=demo.url, headers={"Authorization": f"Bearer {demo.keys[role]}"}, timeout=30
    )


def test_a_bad_key_is_refused_with_the_reason(guarded: Guarded) -> None:
    page = guarded.page
    page.goto(guarded.base + "/")  # the root sends people to the console
    expect(page).to_have_url(re.compile(r"/console/$"))
    page.get_by_test_id("key").fill("sk_not_a_key")
    page.get_by_test_id("login").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("key")


def test_operator_sees_the_nation_and_utilization_change(guarded: Guarded, demo_site: Demo) -> None:
    page = guarded.page
    login(guarded, demo_site.keys["operator"])
    expect(page.get_by_test_id("page-tab")).to_have_text("全国算力总览")
    expect(page.get_by_test_id("stat-cards")).to_contain_text(re.compile(r"\d"))
    grid = page.get_by_test_id("province-grid")
    expect(grid.locator(".tile:not(.none)").first).to_be_visible()
    assert grid.locator(".tile").count() == 31
    for chart in ("utilization-chart", "price-chart", "burn-chart"):
        expect(page.get_by_test_id(chart).locator("svg.main-svg").first).to_be_attached()
    assert page.get_by_test_id("price-table").locator("tbody tr").count() >= 3
    assert page.get_by_test_id("burn-table").locator("tbody tr").count() == 3
    screenshot(guarded, "operator")
    assert any(u.endswith("/console/vendor/plotly.min.js") for u in guarded.seen)

    allocated = page.get_by_test_id("stat-allocated").locator(".value")
    shown = allocated.inner_text()
    before = number(shown)
    model = roomy_model(demo_site, 8)
    with api(demo_site, "buyer") as buyer:
        response = buyer.post(
            "/v1/requests", json={"cards": 8, "duration_s": 7200, "accepted_models": [model]}
        )
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "placed"
    page.get_by_test_id("refresh").click()
    expect(allocated).not_to_have_text(shown)
    assert number(allocated.inner_text()) >= before + 8


def test_buyer_prices_and_submits_a_request_and_sees_it_placed(
    guarded: Guarded, demo_site: Demo
) -> None:
    page = guarded.page
    login(guarded, demo_site.keys["buyer"])
    offers = page.get_by_test_id("offer-table").locator("tbody tr")
    expect(offers.first).to_be_visible()
    everything = offers.count()
    screenshot(guarded, "buyer")
    # filter the market: one model only
    model = roomy_model(demo_site, 4)
    page.get_by_test_id("f-model").select_option(model)
    page.get_by_test_id("f-apply").click()
    expect(page.get_by_test_id("offer-count")).not_to_have_text(f"{everything} 个资源池")
    models = page.get_by_test_id("offer-table").locator("tbody tr td:nth-child(3)")
    assert set(models.all_inner_texts()) == {model}

    # a request where the buyer's voucher applies: the live estimate shows both prices
    model, province = subsidized_offer(demo_site, 4)
    page.get_by_test_id("tab-request").click()
    page.get_by_test_id("r-cards").fill("4")
    page.get_by_test_id("r-hours").fill("2")
    page.get_by_test_id("r-model").select_option(model)
    page.get_by_test_id("r-province").select_option(province)
    expect(page.get_by_test_id("estimate-where")).to_contain_text(province)
    cost = number(page.get_by_test_id("est-cost").locator(".value").inner_text())
    voucher = number(page.get_by_test_id("est-voucher").locator(".value").inner_text())
    net = number(page.get_by_test_id("est-net").locator(".value").inner_text())
    assert voucher > 0 and cost > 0
    assert net == cost - voucher
    # without the voucher the buyer pays the whole list price
    page.get_by_test_id("r-voucher").uncheck()
    expect(page.get_by_test_id("est-voucher").locator(".value")).to_have_text("¥0.00")
    assert number(page.get_by_test_id("est-net").locator(".value").inner_text()) == cost
    page.get_by_test_id("r-voucher").check()
    expect(page.get_by_test_id("est-voucher").locator(".value")).not_to_have_text("¥0.00")
    screenshot(guarded, "buyer-request")
    page.get_by_test_id("r-submit").click()
    result = page.get_by_test_id("submit-result")
    expect(result).to_contain_text("已放置")
    lease = re.search(r"#(\d+)", result.inner_text())
    assert lease is not None

    page.get_by_test_id("tab-requests").click()
    first = page.get_by_test_id("request-table").locator("tbody tr").first
    expect(first).to_contain_text("已放置")
    expect(first).to_contain_text(f"#{lease.group(1)}")

    page.get_by_test_id("tab-leases").click()
    expect(page.get_by_test_id(f"lease-{lease.group(1)}")).to_contain_text(model)
    # the demo billed the replayed day: the buyer's invoice, and its HTML as a download
    page.get_by_test_id("tab-invoices").click()
    expect(page.get_by_test_id("invoice-table")).to_be_visible()
    with api(demo_site, "buyer") as buyer:
        invoice = buyer.get("/v1/invoices").json()[0]
    row = page.get_by_test_id("invoice-table").locator("tbody tr").first
    expect(row).to_contain_text(invoice["number"])
    with page.expect_download() as download:
        page.get_by_test_id(f"invoice-html-{invoice['id']}").click()
    assert download.value.suggested_filename == f"{invoice['number']}.html"
    html = Path(download.value.path()).read_text(encoding="utf-8")
    assert invoice["number"] in html and html.lstrip().lower().startswith("<!doctype html")


def test_provider_changes_a_price(guarded: Guarded, demo_site: Demo) -> None:
    page = guarded.page
    login(guarded, demo_site.keys["provider"])
    rows = page.get_by_test_id("pool-table").locator("tbody tr")
    expect(rows.first).to_be_visible()
    expect(page.get_by_test_id("earnings-chart").locator("svg.main-svg").first).to_be_attached()
    screenshot(guarded, "provider")
    pool_id = int((rows.first.get_attribute("data-testid") or "").removeprefix("pool-"))
    page.get_by_test_id(f"price-input-{pool_id}").fill("9.87")
    # the input already shows what was typed: wait for the PATCH itself, then the toast
    with page.expect_response(
        lambda r: r.url.endswith(f"/v1/pools/{pool_id}") and r.request.method == "PATCH"
    ) as saved:
        page.get_by_test_id(f"price-save-{pool_id}").click()
    assert saved.value.ok
    expect(page.locator("#toast")).to_contain_text("9.87")
    expect(page.get_by_test_id(f"price-input-{pool_id}")).to_have_value("9.87")
    with api(demo_site, "provider") as provider:
        assert provider.get(f"/v1/pools/{pool_id}").json()["price_fen"] == 987
    # a price that is not money is refused in the page, nothing is sent
    page.get_by_test_id(f"price-input-{pool_id}").fill("-3")
    page.get_by_test_id(f"price-save-{pool_id}").click()
    expect(page.locator("#toast")).to_have_class(re.compile(r"\bbad\b"))
    with api(demo_site, "provider") as provider:
        assert provider.get(f"/v1/pools/{pool_id}").json()["price_fen"] == 987


def test_issuer_approves_a_waiting_grant(guarded: Guarded, demo_site: Demo) -> None:
    page = guarded.page
    login(guarded, demo_site.keys["issuer"])
    waiting = page.get_by_test_id("grant-table").locator("tbody tr")
    expect(waiting.first).to_be_visible()
    count = waiting.count()
    screenshot(guarded, "issuer")
    grant_id = int((waiting.first.get_attribute("data-testid") or "").removeprefix("grant-"))
    with api(demo_site, "issuer") as issuer:
        applicant = issuer.get(f"/v1/vouchers/grants/{grant_id}").json()["buyer_name"]
    expect(waiting.first).to_contain_text(applicant)  # the firm by name, not by id
    page.get_by_test_id(f"grant-amount-{grant_id}").fill("300.00")
    page.get_by_test_id(f"approve-{grant_id}").click()
    expect(page.get_by_test_id(f"grant-{grant_id}")).to_have_count(0)
    assert page.get_by_test_id("grant-table").locator("tbody tr").count() == count - 1
    with api(demo_site, "issuer") as issuer:
        grant = issuer.get(f"/v1/vouchers/grants/{grant_id}").json()
    assert (grant["status"], grant["approved_fen"]) == ("approved", 30_000)


def test_english_labels(guarded: Guarded, demo_site: Demo) -> None:
    page = guarded.page
    login(guarded, demo_site.keys["operator"])
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("page-tab")).to_have_text("National overview")
    expect(page.get_by_test_id("stat-idle")).to_contain_text("cards idle")
    page.get_by_test_id("lang").click()
    expect(page.get_by_test_id("page-tab")).to_have_text("全国算力总览")
