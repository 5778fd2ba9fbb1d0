"""``suanli admin ...`` works on the database directly."""

from __future__ import annotations

from .harness import Cli


def test_init_creates_the_operator_once(cli: Cli) -> None:
    first = cli.admin("init")
    assert first["created"] is True
    assert first["org"]["role"] == "operator"
    assert first["org"]["name"] == "suanli operator"
    assert first["key"].startswith("sk_")
    again = cli.admin("init")
    assert again["created"] is False
    assert again["key"] is None
    assert again["org"]["id"] == first["org"]["id"]
    # the key works against the API
    me = cli.json("whoami", key=first["key"])
    assert me["id"] == first["org"]["id"]


def test_init_prints_the_key_for_people(cli: Cli) -> None:
    out = cli("admin", "init", "--db", cli.db_url).stdout
    assert "operator API key" in out
    assert "sk_" in out
    assert "already exists" in cli("admin", "init", "--db", cli.db_url).stdout


def test_create_org_and_keys_by_id_and_by_name(cli: Cli) -> None:
    org = cli.admin(
        *("create-org", "Lanting AI", "--role", "buyer", "--name-zh", "兰亭智能"),
        *("--province", "Zhejiang", "--city", "Hangzhou", "--kind", "sme"),
    )
    assert (org["role"], org["name_zh"], org["kind"]) == ("buyer", "兰亭智能", "sme")
    by_id = cli.admin("create-key", str(org["id"]))
    by_name = cli.admin("create-key", "Lanting AI", "--label", "ci")
    assert by_id["org_id"] == by_name["org_id"] == org["id"]
    assert by_id["key"] != by_name["key"]
    assert cli.json("whoami", key=by_name["key"])["name"] == "Lanting AI"
    listed = cli.admin("list-orgs", "--role", "buyer")
    assert [o["name"] for o in listed] == ["Lanting AI"]


def test_admin_errors_are_one_line(cli: Cli) -> None:
    cli.admin("create-org", "Dup", "--role", "buyer")
    dup = cli("admin", "create-org", "Dup", "--role", "buyer", "--db", cli.db_url, code=1)
    assert "already exists" in dup.stderr
    missing = cli("admin", "create-key", "Nobody", "--db", cli.db_url, code=1)
    assert "no organization" in missing.stderr
    province = cli(
        *("admin", "create-org", "X", "--role", "buyer", "--province", "Atlantis"),
        *("--db", cli.db_url),
        code=1,
    )
    assert "Atlantis" in province.stderr
    cli("admin", "create-org", "X", "--role", "wizard", "--db", cli.db_url, code=2)
