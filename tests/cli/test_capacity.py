"""Centers, pools and offers through the API."""

from __future__ import annotations

from .harness import Cli, World


def test_center_register_list_show(cli: Cli, world: World) -> None:
    shown = cli(
        *("center", "register", "Qingyang-1", "--province", "甘肃", "--city", "庆阳"),
        *("--name-zh", "庆阳一号", "--pue", "1.15", "--rack-kw", "20"),
        key=world.provider,
    ).stdout
    assert "Qingyang-1" in shown
    assert "庆阳一号" in shown
    centers = cli.json("center", "list", key=world.provider)
    assert [c["name"] for c in centers] == ["Qingyang-1", "Guiyang-2"]  # by province: 甘肃, 贵州
    assert centers[1]["province"] == "贵州"
    assert centers[1]["cards"] == 32
    assert centers[0]["pue"] == "1.15"
    table = cli("center", "list", key=world.provider).stdout
    assert "Guiyang-2" in table
    assert "贵州" in table
    detail = cli.json("center", "show", str(world.center_id), key=world.provider)
    assert [p["id"] for p in detail["pools"]] == [world.pool_id]
    changed = cli.json(
        "center", "set", str(centers[0]["id"]), "--status", "maintenance", key=world.provider
    )
    assert changed["status"] == "maintenance"
    cli("center", "set", str(world.center_id), key=world.provider, code=1)
    # the buyer does not see the provider's centers
    cli("center", "show", str(world.center_id), key=world.buyer, code=1)


def test_pool_add_with_a_yuan_price(cli: Cli, world: World) -> None:
    pool = cli.json("pool", "show", str(world.pool_id), key=world.provider)
    assert pool["price_fen"] == 1250
    assert (pool["cards"], pool["inter_node"], pool["inter_node_gbps"]) == (32, "infiniband", 400)
    text = cli(
        *("pool", "add", str(world.center_id), "l40s", "--model", "L40S", "--nodes", "2"),
        *("--cards-per-node", "4", "--price", "¥3.8"),
        key=world.provider,
    ).stdout
    assert "¥3.80/card-h" in text
    pools = cli.json("pool", "list", "--center", str(world.center_id), key=world.provider)
    assert sorted(p["price_fen"] for p in pools) == [380, 1250]
    assert (
        cli.json("pool", "price", str(world.pool_id), "1,1.5", key=world.provider)["price_fen"]
        == 1150
    )
    withdrawn = cli.json("pool", "set", str(world.pool_id), "--inactive", key=world.provider)
    assert withdrawn["active"] is False
    assert "¥11.50" in cli("pool", "list", key=world.provider).stdout


def test_bad_prices_are_one_line_errors(cli: Cli, world: World) -> None:
    def error(price: str) -> str:
        return cli("pool", "price", str(world.pool_id), price, key=world.provider, code=1).stderr

    assert "fractions of a fen" in error("12.345")
    assert "not an amount" in error("cheap")
    assert "more than ¥0" in error("-5")
    unknown = cli(
        *("pool", "add", str(world.center_id), "x", "--model", "H9000", "--nodes", "1"),
        *("--cards-per-node", "8", "--price", "10"),
        key=world.provider,
        code=1,
    )
    assert "H9000" in unknown.stderr


def test_offers_cheapest_first(cli: Cli, world: World) -> None:
    cli(
        *("pool", "add", str(world.center_id), "h800-b", "--model", "H800", "--nodes", "1"),
        *("--cards-per-node", "8", "--price", "11"),
        key=world.provider,
    )
    offers = cli.json("offers", "--model", "H800", key=world.buyer)
    assert [o["price_fen"] for o in offers] == [1100, 1250]
    capped = cli.json("offers", "--max-price", "11.5", "--min-free", "8", key=world.buyer)
    assert [o["price_fen"] for o in capped] == [1100]
    table = cli("offers", "--province", "Guizhou", key=world.buyer).stdout
    assert "Guiyang-2" in table
    assert "¥11.00" in table


def test_offers_by_memory_fabric_and_region(cli: Cli, world: World) -> None:
    cli(
        *("pool", "add", str(world.center_id), "l20-a", "--model", "L20", "--nodes", "1"),
        *("--cards-per-node", "8", "--price", "4"),
        key=world.provider,
    )
    big = cli.json("offers", "--min-memory-gb", "64", key=world.buyer)
    assert [o["model"] for o in big] == ["H800"]  # 80 GB per card; the L20 has 48
    fabric = cli.json("offers", "--inter", "infiniband", key=world.buyer)
    assert {o["model"] for o in fabric} == {"H800"}
    assert len(cli.json("offers", "--region", "Southwest", key=world.buyer)) == 2  # Guizhou
    assert cli.json("offers", "--region", "East", key=world.buyer) == []
    bad = cli("offers", "--region", "Atlantis", key=world.buyer, code=1)
    assert "Atlantis" in bad.stderr
