"""The ledger audit: the books checked from the data, nothing taken on trust.

Each check counts the rows that break one invariant (and lists the first
:data:`SAMPLE` ids in ``details``); ``ok`` is true when every count is zero.

Books:

* ``unbalanced``: transactions whose postings do not sum to zero.
* ``negative_balances``: floored accounts (every kind but ``funding``) below zero.
* ``balance_mismatch``: accounts whose kept balance is not the sum of their postings.
* ``usage_without_charge``: usage records with card-seconds on ended leases that no
  capture billed although their lease's charge is at least 1 fen. The charge is
  ``min(cost of the lease's metered card-seconds, hold)``, rounded once for the whole
  lease, so a lease whose usage costs less than half a fen legitimately has no capture
  and its records no charge. A record linked to a transaction that is not a capture of
  its own lease counts here too.
* ``charge_without_usage``: capture transactions that no usage record points at.
* ``lease_charge_mismatch``: leases whose ``charged_fen`` differs from what their
  capture took out of the buyer's escrow (0 without a capture).

Vouchers:

* ``redemptions_without_usage``: redemptions whose lease has no usage record billed by
  a capture of that lease.
* ``redemption_mismatch``: redemptions whose REDEMPTION transaction is not theirs (kind,
  lease) or does not take exactly ``amount_fen`` out of their program's fund; whose
  ``clawed_back_fen`` differs from the sum of their clawbacks, or one of whose
  clawbacks' CLAWBACK transaction does not put exactly its amount back into that fund;
  or whose lease's ``subsidy_fen`` differs from ``amount_fen``. (A lease records the
  subsidy paid at settlement; clawbacks are recorded on the redemption only, so the
  lease keeps the gross amount.) A lease with a subsidy and no redemption counts too.
* ``grant_redeemed_mismatch``: grants whose ``redeemed_fen`` differs from the sum of
  their redemptions less clawbacks.
* ``fund_overdrawn``: programs whose fund is below zero, or whose net redemptions exceed
  the money paid into the fund or the program's budget.
* ``cap_breaches``: firm-years above ``cap_per_firm_year_fen``, firms above
  ``cap_lifetime_fen``, group-years above ``cap_per_group_year_fen``, redemptions above
  ``cap_per_lease_fen`` (each counted once).
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from suanli.kit.errors import PermissionDeniedError
from suanli.kit.money import usage_cost_fen
from suanli.orgs.auth import Principal
from suanli.store import ledger_repo, report_repo
from suanli.vocab import TransactionKind

SAMPLE = 20
"""How many offending ids ``details`` lists per check."""

CHECKS = (
    "unbalanced",
    "negative_balances",
    "balance_mismatch",
    "usage_without_charge",
    "charge_without_usage",
    "lease_charge_mismatch",
    "redemptions_without_usage",
    "redemption_mismatch",
    "grant_redeemed_mismatch",
    "fund_overdrawn",
    "cap_breaches",
)


class LedgerAudit(BaseModel):
    """Counts of rows breaking each invariant (see :mod:`suanli.ledger.audit`)."""

    ok: bool
    transactions: int
    unbalanced: int
    negative_balances: int
    balance_mismatch: int = 0
    usage_without_charge: int
    charge_without_usage: int
    lease_charge_mismatch: int
    redemptions_without_usage: int
    redemption_mismatch: int
    grant_redeemed_mismatch: int
    fund_overdrawn: int
    cap_breaches: int
    details: dict[str, list[str]] = Field(
        description="per failing check, the first offending ids (or descriptions)"
    )

    @property
    def problems(self) -> int:
        return sum(getattr(self, name) for name in CHECKS)


def audit_ledger(session: Session, principal: Principal | None) -> LedgerAudit:
    """Run every check (operator only; ``principal`` None: direct database access)."""
    if principal is not None and not principal.is_operator:
        raise PermissionDeniedError(f"a {principal.role} key may not audit the ledger")
    found: dict[str, list[str]] = {
        "unbalanced": [f"transaction {i}" for i in ledger_repo.unbalanced_transactions(session)],
        "negative_balances": [
            f"account {i}" for i in ledger_repo.negative_floored_accounts(session)
        ],
        "balance_mismatch": [
            f"account {a}: balance {b} fen, postings {t} fen"
            for a, b, t in ledger_repo.mismatched_balances(session)
        ],
        "usage_without_charge": _usage_without_charge(session),
        "charge_without_usage": [
            f"transaction {i}" for i in report_repo.captures_without_usage(session)
        ],
        "lease_charge_mismatch": _lease_charge_mismatch(session),
        "redemptions_without_usage": [
            f"redemption {i}" for i in report_repo.redemptions_without_billed_usage(session)
        ],
        "redemption_mismatch": _redemption_mismatch(session),
        "grant_redeemed_mismatch": [
            f"grant {g}: redeemed_fen {r}, redemptions net {n}"
            for g, r, n in report_repo.grant_redeemed(session)
            if r != n
        ],
        "fund_overdrawn": _fund_overdrawn(session),
        "cap_breaches": _cap_breaches(session),
    }
    counts = {name: len(found[name]) for name in CHECKS}
    return LedgerAudit(
        ok=not any(counts.values()),
        transactions=ledger_repo.transaction_count(session),
        details={name: items[:SAMPLE] for name, items in found.items() if items},
        **counts,
    )


def _usage_without_charge(session: Session) -> list[str]:
    problems = []
    for record, lease, price, hold, card_seconds in report_repo.usage_on_ended_leases_uncharged(
        session
    ):
        if min(usage_cost_fen(card_seconds, price), hold) >= 1:
            problems.append(f"usage record {record} (lease {lease})")
    problems.extend(
        f"usage record {record} (not billed by its lease's capture)"
        for record in report_repo.usage_charged_elsewhere(session)
    )
    return problems


def _lease_charge_mismatch(session: Session) -> list[str]:
    debits = report_repo.capture_escrow_debits(session)
    problems = []
    for lease, charged, _subsidy in report_repo.lease_charges(session):
        captured = debits.get(lease, 0)
        if charged != captured:
            problems.append(f"lease {lease}: charged_fen {charged}, capture took {captured}")
    return problems


def _redemption_mismatch(session: Session) -> list[str]:
    postings = report_repo.fund_postings(
        session, [TransactionKind.REDEMPTION, TransactionKind.CLAWBACK]
    )
    clawbacks: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for clawback, redemption, amount, txn in report_repo.clawback_rows(session):
        clawbacks[redemption].append((clawback, amount, txn))
    subsidies = {lease: subsidy for lease, _charged, subsidy in report_repo.lease_charges(session)}
    problems = []
    for r in report_repo.redemption_rows(session):
        why = []
        paid = postings.get(r.transaction_id)
        if (
            paid is None
            or paid.kind is not TransactionKind.REDEMPTION
            or paid.lease_id != r.lease_id
        ):
            why.append(f"transaction {r.transaction_id} is not its lease's redemption")
        elif paid.program_id != r.program_id or paid.amount != -r.amount_fen:
            why.append(f"its fund paid {-paid.amount}, not {r.amount_fen}")
        claws = clawbacks.get(r.id, [])
        if sum(amount for _, amount, _ in claws) != r.clawed_back_fen:
            why.append(f"clawed_back_fen {r.clawed_back_fen} is not the sum of its clawbacks")
        for clawback, amount, txn in claws:
            back = postings.get(txn)
            if (
                back is None
                or back.kind is not TransactionKind.CLAWBACK
                or back.program_id != r.program_id
                or back.amount != amount
            ):
                why.append(f"clawback {clawback} did not put {amount} fen back in the fund")
        if subsidies.get(r.lease_id, 0) != r.amount_fen:
            why.append(
                f"lease {r.lease_id} subsidy_fen {subsidies.get(r.lease_id, 0)} is not "
                f"{r.amount_fen}"
            )
        if why:
            problems.append(f"redemption {r.id}: " + "; ".join(why))
    problems.extend(
        f"lease {lease}: subsidy without a redemption"
        for lease in report_repo.leases_with_subsidy_and_no_redemption(session)
    )
    return problems


def _fund_overdrawn(session: Session) -> list[str]:
    balances = report_repo.fund_balances(session, None)
    flows = report_repo.fund_flows(session, None)
    sums = report_repo.redemption_sums(session, None)
    problems = []
    for program in report_repo.program_caps(session):
        balance = balances.get(program.id, 0)
        funded = flows.get(program.id, {}).get(TransactionKind.PROGRAM_FUNDING, 0)
        net = sums[program.id].net_fen if program.id in sums else 0
        if balance < 0 or net > funded or net > program.budget_fen:
            problems.append(
                f"program {program.id}: fund {balance}, funded {funded}, budget "
                f"{program.budget_fen}, redeemed {net}"
            )
    return problems


def _cap_breaches(session: Session) -> list[str]:
    programs = {p.id: p for p in report_repo.program_caps(session)}
    problems = []
    lifetime: dict[tuple[int, int], int] = defaultdict(int)
    for pid, buyer, year, net, _count in report_repo.firm_year_totals(session, None):
        lifetime[(pid, buyer)] += net
        cap = programs[pid].cap_per_firm_year_fen
        if cap is not None and net > cap:
            problems.append(f"program {pid}: firm {buyer} redeemed {net} in {year}, cap {cap}")
    for (pid, buyer), net in lifetime.items():
        cap = programs[pid].cap_lifetime_fen
        if cap is not None and net > cap:
            problems.append(f"program {pid}: firm {buyer} redeemed {net} in all, cap {cap}")
    for pid, group, year, net in report_repo.group_year_totals(session, None):
        cap = programs[pid].cap_per_group_year_fen
        if cap is not None and net > cap:
            problems.append(f"program {pid}: group {group} redeemed {net} in {year}, cap {cap}")
    problems.extend(
        f"program {pid}: redemption {rid} paid {amount}, cap per lease {cap}"
        for pid, rid, amount, cap in report_repo.redemptions_above(session, None)
    )
    return problems
