"""``suanli report vouchers`` and ``suanli audit ledger``: numbers worked out by hand for
the scenario of :func:`ledger.test_audit.build_scenario`, through the API and directly
on the database, and where each command reads from.

The scenario by hand (program "compute voucher", budget ¥1,000):

====  ======  ==========  ======  =======  =============================================
lease firm    provider    charge  voucher  why
====  ======  ==========  ======  =======  =============================================
L1    A       P1 (H800)   4000    2000     50% of 4000
L2    A       P1 (H800)   2000    500      50% = 1000, cut to the firm-year cap 2500 - 2000;
                                           200 clawed back later: net 300
L3    B       P2 (A800)   2400    1200     50% of 2400
L4    C       P1 (H800)   1000    600      early-and-small 60%; 1 of 3 card-hours: underused
L5    B       P1 (H800)   0       0        1 card-second costs 0.28 fen: nothing charged
====  ======  ==========  ======  =======  =============================================

redeemed 4100 net (4300 - 200); remaining 100000 - 4100 = 95900; committed: A 5000 - 2300
+ B 4000 - 1200 = 5500; expired: C 2000 - 600 = 1400 (its grant ran out after a month);
largest firm-year: A 2300 (cap 2500). Providers: P1 2900, P2 1200 of 4100: top 0.7073,
HHI 10000 x (2900² + 1200²) / 4100² = 5859.61. Prices over 10 metered card-hours:
9400 charged = 940 fen/card-h, 5300 after the subsidy = 530; the index is 7 h x 1000
(H800) + 3 h x 800 (A800) over 10 h = 940, so 1.0000 and 0.5638 of it; subsidy per
card-hour 4100 / 10 = 410.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from ledger.test_audit import Scenario, build_scenario
from suanli.cli.main import app as cli_app
from suanli.kit.clock import SystemClock
from suanli.orgs.service import create_key, create_org
from suanli.store import Database
from suanli.store.models import VoucherGrant, VoucherProgram
from suanli.vocab import OrgRole

from .harness import Cli


class Keys:
    def __init__(self, db: Database, scenario: Scenario) -> None:
        with db.transaction() as session:
            operator = create_org(session, SystemClock(), name="operator", role=OrgRole.OPERATOR)

            def key(org_id: int) -> str:
                return create_key(session, SystemClock(), org_id, "tests").secret

            self.operator = key(operator.id)
            self.issuer = key(scenario.issuer)
            self.other_issuer = key(scenario.other_issuer)
            self.provider = key(scenario.providers["P1"])
            self.buyer = key(scenario.buyers["A"])


@pytest.fixture
def scenario(cli: Cli, db: Database) -> Scenario:
    return build_scenario(db, cli.clock)


@pytest.fixture
def keys(db: Database, scenario: Scenario) -> Keys:
    return Keys(db, scenario)


def program_named(report: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [p for p in report["programs"] if p["name"] == name]
    return found


def test_report_numbers_by_hand(cli: Cli, scenario: Scenario, keys: Keys) -> None:
    report = cli.json("report", "vouchers", key=keys.operator)
    assert report["year"] == 2025
    assert [p["name"] for p in report["programs"]] == ["compute voucher", "other voucher"]
    p = program_named(report, "compute voucher")
    money = {
        name: p[name]
        for name in (
            "budget_fen",
            "funded_fen",
            "redeemed_fen",
            "clawed_back_fen",
            "remaining_fen",
            "committed_fen",
            "expired_fen",
            "returned_fen",
            "largest_firm_year_fen",
            "largest_firm_lifetime_fen",
            "cap_per_firm_year_fen",
            "redemptions",
        )
    }
    assert money == {
        "budget_fen": 100_000,
        "funded_fen": 100_000,
        "redeemed_fen": 4_100,
        "clawed_back_fen": 200,
        "remaining_fen": 95_900,
        "committed_fen": 5_500,
        "expired_fen": 1_400,
        "returned_fen": 0,
        "largest_firm_year_fen": 2_300,
        "largest_firm_lifetime_fen": 2_300,
        "cap_per_firm_year_fen": 2_500,
        "redemptions": 4,
    }
    assert p["funders"] == [
        {"funder": "city", "funded_fen": 50_000},
        {"funder": "province", "funded_fen": 50_000},
    ]
    assert Decimal(p["used_share"]) == Decimal("0.041")
    assert p["grants"] == {"applied": 0, "approved": 3, "rejected": 1, "revoked": 0}
    firms = [(f["name"], f["year_fen"], f["lifetime_fen"], f["within_caps"]) for f in p["firms"]]
    assert firms == [
        ("Firm A", 2_300, 2_300, True),
        ("Firm B", 1_200, 1_200, True),
        ("Firm C", 600, 600, True),
    ]
    assert (p["within_caps"], p["cap_breaches"], p["within_budget"]) == (True, [], True)
    assert [(x["name"], x["redeemed_fen"]) for x in p["providers"]] == [
        ("P1 Compute", 2_900),
        ("P2 Compute", 1_200),
    ]
    assert Decimal(p["top_provider_share"]) == Decimal("0.7073")
    assert Decimal(p["hhi"]) == Decimal("5859.61")
    prices = p["prices"]
    assert Decimal(prices["card_hours"]) == 10
    assert Decimal(prices["mean_price_fen"]) == 940
    assert Decimal(prices["after_subsidy_fen"]) == 530
    assert Decimal(prices["index_price_fen"]) == 940
    assert Decimal(prices["price_to_index"]) == 1
    assert Decimal(prices["after_subsidy_to_index"]) == Decimal("0.5638")
    by_model = {m["model"]: m for m in prices["by_model"]}
    assert Decimal(by_model["H800"]["card_hours"]) == 7
    assert Decimal(by_model["H800"]["index_price_fen"]) == 1000
    assert Decimal(by_model["A800"]["mean_price_fen"]) == 800
    assert Decimal(p["metered_card_hours"]) == 10
    assert Decimal(p["subsidy_per_card_hour_fen"]) == 410
    assert p["open_flags"] == {"underused": 1}
    empty = program_named(report, "other voucher")
    assert (empty["redeemed_fen"], empty["remaining_fen"], empty["largest_firm_year_fen"]) == (
        0,
        10_000,
        0,
    )
    assert (empty["hhi"], empty["subsidy_per_card_hour_fen"]) == (None, None)


def test_a_broken_cap_shows(cli: Cli, db: Database, scenario: Scenario, keys: Keys) -> None:
    with db.transaction() as session:  # lowered after the fact: Firm A is now above it
        session.execute(
            update(VoucherProgram)
            .where(VoucherProgram.id == scenario.program)
            .values(cap_per_firm_year_fen=2_000)
        )
    p = program_named(cli.json("report", "vouchers", key=keys.operator), "compute voucher")
    assert p["within_caps"] is False
    assert p["cap_breaches"] == ["Firm A redeemed 2300 fen in 2025, cap 2000"]
    assert [f["within_caps"] for f in p["firms"]] == [False, True, True]


def test_who_sees_which_programs(cli: Cli, scenario: Scenario, keys: Keys) -> None:
    mine = cli.json("report", "vouchers", key=keys.issuer)
    assert [p["name"] for p in mine["programs"]] == ["compute voucher"]
    other = cli.json("report", "vouchers", key=keys.other_issuer)
    assert [p["name"] for p in other["programs"]] == ["other voucher"]
    one = cli.json("report", "vouchers", "--program", str(scenario.program), key=keys.operator)
    assert [p["id"] for p in one["programs"]] == [scenario.program]
    refused = cli(
        "report", "vouchers", "--program", str(scenario.program), key=keys.other_issuer, code=1
    )
    assert f"voucher program {scenario.program} not found" in refused.stderr
    denied = cli("report", "vouchers", key=keys.provider, code=1)
    assert "provider key may not read voucher reports" in denied.stderr
    denied = cli("report", "vouchers", key=keys.buyer, code=1)
    assert "buyer key may not use reports:read" in denied.stderr


def test_human_report(cli: Cli, scenario: Scenario, keys: Keys) -> None:
    text = cli("report", "vouchers", key=keys.issuer).stdout
    assert "voucher programs (2025)" in text
    for shown in ("¥1,000.00", "¥41.00", "¥959.00", "¥55.00", "¥14.00", "4.1%"):
        assert shown in text, shown
    assert "top firms of program" in text
    assert "Firm A" in text
    assert "¥25.00" in text  # the cap per firm and year
    assert "underused" in text


def test_direct_database_gives_the_same_report(
    cli: Cli, scenario: Scenario, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    through_api = program_named(
        cli.json("report", "vouchers", key=keys.operator), "compute voucher"
    )
    calls = len(cli.urls)
    direct = program_named(cli.json("report", "vouchers", "--db", cli.db_url), "compute voucher")
    monkeypatch.setenv("SUANLI_DATABASE_URL", cli.db_url)
    default = program_named(cli.json("report", "vouchers"), "compute voucher")
    assert len(cli.urls) == calls  # neither asked the API
    # The direct reads run on the wall clock, in another year: only the per-year
    # figures of the report's own year differ.
    for report in (direct, default):
        for name in ("budget_fen", "redeemed_fen", "remaining_fen", "committed_fen"):
            assert report[name] == through_api[name], name
        for name in ("expired_fen", "largest_firm_year_fen", "hhi", "prices", "open_flags"):
            assert report[name] == through_api[name], name


def test_where_the_commands_read_from(
    cli: Cli, tmp_path: Path, scenario: Scenario, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "nothing-here"))
    missing = cli("audit", "ledger", code=1)
    assert "no exchange database at sqlite:///" in missing.stderr
    assert "--db URL or --profile NAME" in missing.stderr
    cli("profile", "set", "operator", "--url", "http://suanli.test", "--key", keys.operator)
    assert cli.json("audit", "ledger")["ok"] is True  # the default profile, as no database
    assert cli.urls[-1] == "http://suanli.test"
    nowhere = cli("audit", "ledger", "--db", f"sqlite:///{tmp_path}/none.db", code=1)
    assert "no database at sqlite:///" in nowhere.stderr
    (tmp_path / "empty.db").write_bytes(b"")
    empty = cli("report", "vouchers", "--db", f"sqlite:///{tmp_path}/empty.db", code=1)
    assert "holds no up-to-date suanli exchange" in empty.stderr


def test_audit_ledger(cli: Cli, db: Database, scenario: Scenario, keys: Keys) -> None:
    through_api = cli.json("audit", "ledger", key=keys.operator)
    direct = cli.json("audit", "ledger", "--db", cli.db_url)
    assert through_api == direct
    assert through_api["ok"] is True
    assert through_api["transactions"] > 0
    assert through_api["details"] == {}
    human = cli("audit", "ledger", key=keys.operator).stdout
    assert "no problems found" in human
    denied = cli("audit", "ledger", key=keys.issuer, code=1)
    assert "issuer key may not audit the ledger" in denied.stderr
    with db.transaction() as session:
        session.execute(
            update(VoucherGrant)
            .where(VoucherGrant.id == scenario.grants["B"])
            .values(redeemed_fen=VoucherGrant.redeemed_fen + 1)
        )
    failed = cli.runner.invoke(cli_app, ["audit", "ledger", "--json", "--db", cli.db_url])
    assert failed.exit_code == 1
    found = json.loads(failed.stdout)
    assert (found["ok"], found["grant_redeemed_mismatch"]) == (False, 1)
    assert found["details"]["grant_redeemed_mismatch"] == [
        f"grant {scenario.grants['B']}: redeemed_fen 1201, redemptions net 1200"
    ]
    human = cli.runner.invoke(cli_app, ["--key", keys.operator, "audit", "ledger"])
    assert human.exit_code == 1
    assert "1 problem(s) found" in human.stdout
