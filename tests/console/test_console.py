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
from playwright.sync_api import Request, expect
from tests.console.conftest import Demo, Guarded, login, screenshot

from suanli.engine.snapshot import INTER_NODE_RANK

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


CJK = re.compile(r"[\u4e00-\u9fff]")


def switch_language(guarded: Guarded, tab: str) -> None:
    """Click the language button and wait for the page tab to read ``tab``."""
    guarded.page.get_by_test_id("lang").click()
    expect(guarded.page.get_by_test_id("page-tab")).to_have_text(tab)


def tiles_out_of_place(guarded: Guarded) -> list[str]:
    """Titles of the province tiles that stick out of the grid's card, or whose name does
    not fit the tile."""
    found: list[str] = guarded.page.get_by_test_id("province-grid").evaluate(
        """(grid) => {
          const card = grid.closest(".card").getBoundingClientRect();
          return [...grid.querySelectorAll(".tile")]
            .filter((tile) => {
              const box = tile.getBoundingClientRect();
              const name = tile.querySelector("b");
              return box.left < card.left || box.right > card.right || box.top < card.top
                || box.bottom > card.bottom || tile.scrollWidth > tile.clientWidth
                || name.scrollWidth > name.clientWidth;
            })
            .map((tile) => tile.title);
        }"""
    )
    return found


def test_province_tiles_fit_their_card_in_both_languages(guarded: Guarded, demo_site: Demo) -> None:
    page = guarded.page
    login(guarded, demo_site.keys["operator"])
    grid = page.get_by_test_id("province-grid")
    expect(grid.locator(".tile").first).to_be_visible()
    for language, tab in (("zh", "全国算力总览"), ("en", "National overview")):
        if language == "en":
            switch_language(guarded, tab)
        expect(grid.locator(".tile")).to_have_count(31)
        for width in (1280, 1440):
            page.set_viewport_size({"width": width, "height": 1000})
            assert tiles_out_of_place(guarded) == [], (language, width)
            screenshot(guarded, f"operator-{language}-{width}")
    # a long English name may break inside its tile; the title has it whole
    title = grid.get_by_test_id("province-黑龙江").get_attribute("title") or ""
    assert title.startswith("Heilongjiang:")


def test_the_price_table_lists_every_model(guarded: Guarded, demo_site: Demo) -> None:
    page = guarded.page
    with page.expect_response(lambda r: r.url.endswith("/v1/reports/prices")) as got:
        login(guarded, demo_site.keys["operator"])
    models = [m["model"] for m in got.value.json()["models"]]
    assert len(models) > 9  # the demo lists many models
    rows = page.get_by_test_id("price-table").locator("tbody tr")
    expect(rows).to_have_count(len(models))
    assert rows.locator("td:first-child").all_inner_texts() == models
    # every row is on the page, none hidden in a box that scrolls
    box = page.get_by_test_id("price-table").locator("xpath=..")
    assert box.evaluate("(node) => node.scrollHeight <= node.clientHeight + 1")
    with api(demo_site, "operator") as operator:
        assert len(operator.get("/v1/reports/prices").json()["models"]) == len(models)


def test_voucher_burn_is_each_programmes_share_of_its_budget(
    guarded: Guarded, demo_site: Demo
) -> None:
    page = guarded.page
    with page.expect_response(lambda r: r.url.endswith("/v1/reports/vouchers")) as got:
        login(guarded, demo_site.keys["operator"])
    programs = got.value.json()["programs"]
    chart = page.get_by_test_id("burn-chart")
    expect(chart.locator("svg.main-svg").first).to_be_attached()
    drawn = chart.evaluate(
        "(gd) => ({ axis: gd.layout.xaxis, traces: gd.data.map((t) => ({ x: t.x, y: t.y })) })"
    )
    assert drawn["axis"]["tickformat"] == ".0%"
    assert drawn["axis"]["range"] == [0, 1]
    redeemed, committed, rest = drawn["traces"]
    assert redeemed["y"] == [p["name"] for p in programs]
    assert redeemed["x"] == pytest.approx([p["redeemed_fen"] / p["budget_fen"] for p in programs])
    assert committed["x"] == pytest.approx([p["committed_fen"] / p["budget_fen"] for p in programs])
    for i in range(len(programs)):
        parts = [redeemed["x"][i], committed["x"][i], rest["x"][i]]
        assert all(0 <= x <= 1 for x in parts) and sum(parts) <= 1 + 1e-9


def test_center_names_in_the_page_language(guarded: Guarded, demo_site: Demo) -> None:
    page = guarded.page
    with api(demo_site, "provider") as provider:
        center = next(c for c in provider.get("/v1/centers").json() if c["name_zh"])
    login(guarded, demo_site.keys["provider"])
    pools = page.get_by_test_id("pool-table")
    centers = page.get_by_test_id("center-table")
    expect(pools.locator("tbody tr").first).to_contain_text(center["name_zh"])
    expect(centers).to_contain_text(center["name_zh"])
    screenshot(guarded, "provider-zh")
    switch_language(guarded, "My centers")
    expect(pools.locator("tbody tr").first).to_contain_text(center["name"])
    expect(centers).to_contain_text(center["name"])
    expect(centers).not_to_contain_text(center["name_zh"])
    screenshot(guarded, "provider-en")


def is_quote(request: Request, **fields: object) -> bool:
    """A quote the page asked for, with these values in its body."""
    if not (request.url.endswith("/v1/quotes") and request.method == "POST"):
        return False
    body = request.post_data_json or {}
    return all(body.get(k) == v for k, v in fields.items())


def test_the_request_form_sends_cards_per_node_and_interconnect(
    guarded: Guarded, demo_site: Demo
) -> None:
    page = guarded.page
    login(guarded, demo_site.keys["buyer"])
    page.get_by_test_id("tab-request").click()
    form = page.get_by_test_id("request-form")
    expect(form).to_contain_text("卡/节点")
    expect(form).to_contain_text("节点互联")
    per_node, inter = page.get_by_test_id("r-pernode"), page.get_by_test_id("r-inter")
    fabrics = inter.locator("option").evaluate_all("(options) => options.map((o) => o.value)")
    assert fabrics[0] == "" and set(fabrics[1:]) <= set(INTER_NODE_RANK) and fabrics[1:]
    page.get_by_test_id("r-voucher").uncheck()
    page.get_by_test_id("r-hours").fill("1")
    # left empty: the exchange chooses how to spread the cards, nothing about nodes is sent
    with page.expect_request(lambda r: is_quote(r, cards=16)) as sent:
        page.get_by_test_id("r-cards").fill("16")
    body = sent.value.post_data_json
    assert "cards_per_node" not in body and "inter_node" not in body
    expect(inter).to_be_disabled()
    with page.expect_request(lambda r: is_quote(r, cards_per_node=8)) as sent:
        per_node.fill("8")
    assert "inter_node" not in sent.value.post_data_json
    expect(inter).to_be_enabled()
    with page.expect_request(lambda r: is_quote(r, inter_node="infiniband")) as sent:
        inter.select_option("infiniband")
    assert sent.value.post_data_json["cards_per_node"] == 8
    expect(page.get_by_test_id("estimate")).not_to_be_empty()
    screenshot(guarded, "buyer-request-gang")

    with page.expect_response(
        lambda r: r.url.endswith("/v1/requests") and r.request.method == "POST"
    ) as submitted:
        page.get_by_test_id("r-submit").click()
    body = submitted.value.request.post_data_json
    assert (body["cards"], body["cards_per_node"], body["inter_node"]) == (16, 8, "infiniband")
    expect(page.get_by_test_id("submit-result")).to_be_visible()
    created = submitted.value.json()
    assert (created["cards_per_node"], created["inter_node"]) == (8, "infiniband")
    if created["status"] == "queued":
        with api(demo_site, "buyer") as buyer:
            buyer.post(f"/v1/requests/{created['id']}/cancel", json={})


def test_queue_reasons_in_the_page_language(guarded: Guarded, demo_site: Demo) -> None:
    """A request no pool can take (a price cap of one fen) waits with its reasons in
    Chinese on the Chinese page, in English on the English one; the live quote too."""
    page = guarded.page
    with api(demo_site, "buyer") as buyer:
        response = buyer.post(
            "/v1/requests",
            json={"cards": 1, "duration_s": 3600, "max_price_fen": 1, "use_voucher": False},
        )
        assert response.status_code == 201, response.text
        queued = response.json()
    assert queued["status"] == "queued" and queued["reasons"]
    try:
        login(guarded, demo_site.keys["buyer"])
        page.get_by_test_id("tab-requests").click()
        reasons = page.get_by_test_id(f"request-{queued['id']}").locator(".reasons li")
        expect(reasons.first).to_be_visible()
        shown = reasons.all_inner_texts()
        assert shown and all(CJK.search(text) for text in shown), shown
        screenshot(guarded, "buyer-requests-zh")

        page.get_by_test_id("tab-request").click()
        page.get_by_test_id("r-cards").fill("1")
        with page.expect_response(lambda r: is_quote(r.request, max_price_fen=1)) as got:
            page.get_by_test_id("r-price").fill("0.01")
        quote = got.value.json()
        estimate = page.get_by_test_id("estimate-queued")
        expect(estimate.locator(".reasons li").first).to_be_visible()
        shown = estimate.locator(".reasons li").all_inner_texts()
        assert shown == quote["reasons_zh"] and all(CJK.search(text) for text in shown)
        if quote["nearest_zh"]:
            expect(page.get_by_test_id("estimate-nearest")).to_contain_text(quote["nearest_zh"][0])

        switch_language(guarded, "Buy compute")
        page.get_by_test_id("tab-requests").click()
        expect(reasons.first).to_be_visible()
        with api(demo_site, "buyer") as buyer:
            english = buyer.get(f"/v1/requests/{queued['id']}").json()["reasons"]
        expect(reasons).to_have_text(english)
    finally:
        with api(demo_site, "buyer") as buyer:
            buyer.post(f"/v1/requests/{queued['id']}/cancel", json={})


def test_api_errors_carry_a_label_in_the_page_language(guarded: Guarded) -> None:
    page = guarded.page
    page.goto(guarded.base + "/console/")
    page.get_by_test_id("key").fill("sk_not_a_key")
    page.get_by_test_id("login").click()
    error = page.get_by_test_id("login-error")
    expect(error).to_contain_text("API 密钥无效")
    expect(error).to_contain_text("key")  # the server's own words stay
    # the exchange cannot be reached at all
    page.route("**/v1/orgs/me", lambda route: route.abort())
    page.get_by_test_id("key").fill("sk_whatever")
    page.get_by_test_id("login").click()
    expect(error).to_contain_text("网络错误")
    page.get_by_test_id("lang").click()
    page.get_by_test_id("key").fill("sk_whatever")
    page.get_by_test_id("login").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("Network error")
