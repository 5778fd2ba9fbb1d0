"""GET /v1/reports/vouchers and GET /v1/audit/ledger over HTTP, through the SDK, on the
scenario of :func:`ledger.test_audit.build_scenario` (numbers checked by hand in
``tests/cli/test_report_vouchers.py``): who may read what, and what is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conftest import row_counts
from ledger.test_audit import START, build_scenario
from suanli.kit.clock import ManualClock, SystemClock
from suanli.orgs.service import create_key, create_org
from suanli.sdk import ApiError, Client
from suanli.store import Database
from suanli.vocab import OrgRole


def test_voucher_report_and_audit_over_http(db: Database, serve: Callable[..., str]) -> None:
    clock = ManualClock(START)
    scenario = build_scenario(db, clock)
    with db.transaction() as session:
        operator = create_org(session, SystemClock(), name="operator", role=OrgRole.OPERATOR)

        def key(org_id: int) -> str:
            return create_key(session, SystemClock(), org_id, "tests").secret

        keys = {
            "operator": key(operator.id),
            "issuer": key(scenario.issuer),
            "other": key(scenario.other_issuer),
            "provider": key(scenario.providers["P2"]),
            "buyer": key(scenario.buyers["B"]),
        }
    url = serve(db, clock=clock)
    clients = {name: Client(url, secret) for name, secret in keys.items()}
    try:
        before = row_counts(db)
        everything = clients["operator"].voucher_report()
        assert [p.id for p in everything.programs] == [scenario.program, scenario.other_program]
        [mine] = clients["issuer"].voucher_report().programs
        assert (mine.id, mine.budget_fen, mine.redeemed_fen, mine.remaining_fen) == (
            scenario.program,
            100_000,
            4_100,
            95_900,
        )
        assert (mine.largest_firm_year_fen, mine.cap_per_firm_year_fen) == (2_300, 2_500)
        assert mine == everything.programs[0]
        [theirs] = clients["other"].voucher_report().programs
        assert theirs.id == scenario.other_program
        with pytest.raises(ApiError) as refused:
            clients["other"].voucher_report(program_id=scenario.program)
        assert refused.value.status == 404
        for name in ("provider", "buyer"):
            with pytest.raises(ApiError) as denied:
                clients[name].voucher_report()
            assert denied.value.status == 403, name
        audit = clients["operator"].audit_ledger()
        assert audit.ok
        assert audit.problems == 0
        for name in ("issuer", "provider", "buyer"):
            with pytest.raises(ApiError) as denied:
                clients[name].audit_ledger()
            assert denied.value.status == 403, name
            assert "may not audit the ledger" in denied.value.message
        with Client(url) as anonymous, pytest.raises(ApiError) as unknown:
            anonymous.audit_ledger()
        assert unknown.value.status == 401
        assert row_counts(db) == before  # reports and audits write nothing
    finally:
        for client in clients.values():
            client.close()
