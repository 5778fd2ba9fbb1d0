"""Voucher programs and grants: what issuers and buyers do, inside one transaction.

* An issuer creates a program; its whole budget is paid into the program's own fund
  account at once, one ledger transaction per funder of the split. Closing a program
  returns what is left to its funders.
* A buyer applies for a grant; the issuer approves (rates frozen, a first tranche
  released) or rejects it with a reason. Later tranches are released once the grant has
  paid for metered use. Approvals never promise more than the fund holds.
* Subsidies are paid when a lease settles (:mod:`suanli.vouchers.settlement`); an issuer
  may claw a redemption back or revoke a grant.

Visibility: issuers see their own programs and everything under them; buyers see every
program (to apply) and their own grants and redemptions; providers see redemptions of
their leases; the operator sees all. Others' objects answer 404.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from suanli.kit.clock import Clock
from suanli.kit.errors import ConflictError, NotFoundError, ValidationError
from suanli.kit.money import CNY, yuan
from suanli.ledger import Ledger
from suanli.ledger.service import Leg
from suanli.orgs.auth import Principal, Scope
from suanli.store import orgs_repo, vouchers_repo, work_repo
from suanli.store.models import (
    Organization,
    VoucherClawback,
    VoucherGrant,
    VoucherProgram,
    VoucherRedemption,
)
from suanli.vocab import AccountKind, GrantStatus, OrgRole, ProgramStatus, SettlementMode
from suanli.vouchers import rules
from suanli.vouchers.schemas import ClawbackIn, GrantDecisionIn, GrantIn, ProgramIn, RevokeIn


def split_budget(budget_fen: int, weights: dict[str, int]) -> list[tuple[str, int]]:
    """Split ``budget_fen`` by integer weights into whole fen that sum exactly to it; the
    remainder fen go to the first funders (in the order given)."""
    total = sum(weights.values())
    shares = [(funder, budget_fen * weight // total) for funder, weight in weights.items()]
    left = budget_fen - sum(share for _, share in shares)
    return [(funder, share + (1 if i < left else 0)) for i, (funder, share) in enumerate(shares)]


def tranche_amounts(approved_fen: int, percents: list[int]) -> list[int]:
    """Whole-fen tranches of ``approved_fen`` by percent; the last takes the remainder."""
    amounts = [approved_fen * p // 100 for p in percents[:-1]]
    return [*amounts, approved_fen - sum(amounts)]


class Vouchers:
    """Programs, grants, redemptions and clawbacks for one caller."""

    def __init__(self, session: Session, clock: Clock, principal: Principal | None) -> None:
        self.session = session
        self.clock = clock
        self.principal = principal
        self.ledger = Ledger(session, clock)

    # -- who may see what ---------------------------------------------------------------
    def _require(self, scope: Scope) -> None:
        if self.principal is not None:
            self.principal.require(scope)

    def _runs(self, program: VoucherProgram) -> bool:
        p = self.principal
        return p is None or p.is_operator or program.issuer_id == p.org_id

    def fund_fen(self, program: VoucherProgram) -> int:
        return self.ledger.balance(program.issuer_id, AccountKind.VOUCHER_FUND, program.id)

    def program(self, program_id: int, *, lock: bool = False) -> VoucherProgram:
        """A program any voucher reader may see (buyers must, to apply)."""
        self._require(Scope.VOUCHERS_READ)
        program = vouchers_repo.program(self.session, program_id, lock=lock)
        if program is None:
            raise NotFoundError("voucher program", program_id)
        return program

    def _own_program(self, program_id: int, *, lock: bool = False) -> VoucherProgram:
        self._require(Scope.VOUCHERS_ISSUE)
        program = self.program(program_id, lock=lock)
        if not self._runs(program):
            raise NotFoundError("voucher program", program_id)
        return program

    def programs(self, *, mine: bool = False) -> list[VoucherProgram]:
        self._require(Scope.VOUCHERS_READ)
        p = self.principal
        issuer = p.org_id if p is not None and p.role is OrgRole.ISSUER and mine else None
        return vouchers_repo.programs(self.session, issuer_id=issuer)

    # -- programs -----------------------------------------------------------------------
    def create_program(self, data: ProgramIn, *, issuer_id: int | None = None) -> VoucherProgram:
        """Create a program and pay its whole budget into its fund."""
        self._require(Scope.VOUCHERS_ISSUE)
        p = self.principal
        if p is not None and not p.is_operator:
            if issuer_id not in (None, p.org_id):
                raise NotFoundError("organization", issuer_id)
            issuer_id = p.org_id
        if issuer_id is None:
            raise ValidationError("an operator creating a program must name its issuer_id")
        issuer = orgs_repo.by_id(self.session, issuer_id)
        if issuer is None:
            raise ValidationError(f"organization {issuer_id} does not exist")
        if issuer.role is not OrgRole.ISSUER:
            raise ValidationError(f"organization {issuer_id} is a {issuer.role}, not an issuer")
        if vouchers_repo.program_by_name(self.session, issuer_id, data.name) is not None:
            raise ConflictError(f"this issuer already runs a program named {data.name!r}")
        self._check_orgs(data.provider_ids, OrgRole.PROVIDER, "provider_ids")
        self._check_orgs(data.blacklist, OrgRole.BUYER, "blacklist")
        now = self.clock.now()
        program = VoucherProgram(
            issuer_id=issuer_id,
            currency=CNY,
            status=ProgramStatus.ACTIVE,
            created_at=now,
            **data.model_dump(),
        )
        self.session.add(program)
        self.session.flush()
        for funder, share in split_budget(data.budget_fen, data.funding_split):
            if share:
                self.ledger.fund_program(issuer_id, program.id, share, funder=funder)
        return program

    def _check_orgs(self, ids: list[int], role: OrgRole, field: str) -> None:
        for org_id in ids:
            org = orgs_repo.by_id(self.session, org_id)
            if org is None:
                raise ValidationError(f"{field}: organization {org_id} does not exist")
            if org.role is not role:
                raise ValidationError(f"{field}: organization {org_id} is not a {role}")

    def close_program(self, program_id: int) -> VoucherProgram:
        """Stop a program: live grants end, the unspent fund goes back to the funders."""
        program = self._own_program(program_id, lock=True)
        if program.status is ProgramStatus.CLOSED:
            raise ConflictError(f"program {program_id} is already closed")
        now = self.clock.now()
        for grant in vouchers_repo.grants(self.session, program_ids=[program.id]):
            if grant.status in (GrantStatus.APPLIED, GrantStatus.APPROVED):
                grant.status = (
                    GrantStatus.REJECTED if grant.status is GrantStatus.APPLIED else grant.status
                )
                grant.reason = grant.reason or "program closed"
                grant.expires_at = min(grant.expires_at or now, now)
                grant.decided_at = grant.decided_at or now
        self.ledger.close_program(program.issuer_id, program.id)
        program.status = ProgramStatus.CLOSED
        program.closed_at = now
        return program

    # -- grants -------------------------------------------------------------------------
    def _sees_grant(self, grant: VoucherGrant) -> bool:
        p = self.principal
        if p is None or p.is_operator or grant.buyer_id == p.org_id:
            return True
        if p.role is OrgRole.ISSUER:
            program = vouchers_repo.program(self.session, grant.program_id)
            return program is not None and program.issuer_id == p.org_id
        return False

    def grant(self, grant_id: int, *, lock: bool = False) -> VoucherGrant:
        self._require(Scope.VOUCHERS_READ)
        grant = vouchers_repo.grant(self.session, grant_id, lock=lock)
        if grant is None or not self._sees_grant(grant):
            raise NotFoundError("voucher grant", grant_id)
        return grant

    def grants(
        self, *, program_id: int | None = None, status: GrantStatus | None = None
    ) -> list[VoucherGrant]:
        self._require(Scope.VOUCHERS_READ)
        p = self.principal
        program_ids = None if program_id is None else [program_id]
        buyer = None
        if p is not None and not p.is_operator:
            if p.role is OrgRole.ISSUER:
                own = [prog.id for prog in vouchers_repo.programs(self.session, issuer_id=p.org_id)]
                program_ids = [i for i in (program_ids or own) if i in own]
            else:
                buyer = p.org_id
        return vouchers_repo.grants(
            self.session, program_ids=program_ids, buyer_id=buyer, status=status
        )

    def apply(self, data: GrantIn) -> VoucherGrant:
        """A buyer applies; eligibility is checked now and again at approval."""
        self._require(Scope.VOUCHERS_APPLY)
        p = self.principal
        buyer_id = data.buyer_id
        if p is not None and not p.is_operator:
            if buyer_id not in (None, p.org_id):
                raise NotFoundError("organization", buyer_id)
            buyer_id = p.org_id
        if buyer_id is None:
            raise ValidationError("an operator applying for a grant must name its buyer_id")
        buyer = self._buyer(buyer_id)
        program = vouchers_repo.program(self.session, data.program_id)
        if program is None:
            raise ValidationError(f"program_id: voucher program {data.program_id} does not exist")
        now = self.clock.now()
        self._open(program)
        if now >= program.valid_until:
            raise ConflictError(f"program {program.name} ended on {program.valid_until.date()}")
        reasons = rules.buyer_reasons(program, buyer)
        if reasons:
            raise ValidationError("not eligible: " + "; ".join(reasons))
        grant = VoucherGrant(
            program_id=program.id,
            buyer_id=buyer.id,
            status=GrantStatus.APPLIED,
            purpose=data.purpose,
            requested_fen=data.requested_fen,
            approved_fen=0,
            released_fen=0,
            redeemed_fen=0,
            tranches=[],
            reason="",
            applied_at=now,
        )
        self.session.add(grant)
        self.session.flush()
        return grant

    def _buyer(self, buyer_id: int) -> Organization:
        buyer = orgs_repo.by_id(self.session, buyer_id)
        if buyer is None:
            raise ValidationError(f"organization {buyer_id} does not exist")
        if buyer.role is not OrgRole.BUYER:
            raise ValidationError(f"organization {buyer_id} is a {buyer.role}, not a buyer")
        return buyer

    @staticmethod
    def _open(program: VoucherProgram) -> None:
        if program.status is not ProgramStatus.ACTIVE:
            raise ConflictError(f"program {program.name} is {program.status}")

    def _issued_grant(self, grant_id: int) -> tuple[VoucherProgram, VoucherGrant]:
        """A grant of a program the caller runs, program then grant locked."""
        self._require(Scope.VOUCHERS_ISSUE)
        found = vouchers_repo.grant(self.session, grant_id)
        if found is None:
            raise NotFoundError("voucher grant", grant_id)
        program = vouchers_repo.program(self.session, found.program_id, lock=True)
        if program is None or not self._runs(program):
            raise NotFoundError("voucher grant", grant_id)
        grant = vouchers_repo.grant(self.session, grant_id, lock=True)
        assert grant is not None
        return program, grant

    def decide(self, grant_id: int, data: GrantDecisionIn) -> VoucherGrant:
        """Approve (rates frozen, first tranche released) or reject with a reason."""
        program, grant = self._issued_grant(grant_id)
        if grant.status is not GrantStatus.APPLIED:
            raise ConflictError(f"grant {grant_id} is {grant.status}; only applied grants")
        now = self.clock.now()
        if not data.approve:
            grant.status = GrantStatus.REJECTED
            grant.reason = data.reason.strip()
            grant.decided_at = now
            return grant
        self._open(program)
        if now >= program.valid_until:
            raise ConflictError(f"program {program.name} ended on {program.valid_until.date()}")
        buyer = self._buyer(grant.buyer_id)
        reasons = rules.buyer_reasons(program, buyer)
        if reasons:
            raise ConflictError("no longer eligible: " + "; ".join(reasons))
        amount = data.approved_fen if data.approved_fen is not None else grant.requested_fen
        free = self.fund_fen(program) - vouchers_repo.outstanding_fen(self.session, program.id, now)
        if amount > free:
            raise ConflictError(
                f"approving {yuan(amount)} would promise more than the program's "
                f"uncommitted budget {yuan(max(free, 0))}"
            )
        frozen = rules.grant_rates(program, buyer, now)
        tranches = tranche_amounts(amount, data.tranches_pct)
        grant.status = GrantStatus.APPROVED
        grant.approved_fen = amount
        grant.released_fen = tranches[0]
        grant.tranches = tranches[1:]
        grant.rate = frozen.rate
        grant.domestic_rate = frozen.domestic_rate
        expires = program.valid_until
        if frozen.until is not None:
            expires = min(expires, frozen.until)
        grant.expires_at = expires
        grant.reason = data.reason.strip() or f"approved at the {frozen.basis}"
        grant.decided_at = now
        return grant

    def release_tranche(self, grant_id: int) -> VoucherGrant:
        """Release the next tranche: only after the grant has paid for metered use."""
        _program, grant = self._issued_grant(grant_id)
        if grant.status is not GrantStatus.APPROVED:
            raise ConflictError(f"grant {grant_id} is {grant.status}")
        if not grant.tranches:
            raise ConflictError(f"grant {grant_id} has no tranche left to release")
        if not vouchers_repo.redemptions(self.session, grant_id=grant.id, limit=1):
            raise ConflictError(
                f"grant {grant_id} has paid for no metered use yet; a later tranche "
                "follows a usage report"
            )
        grant.released_fen += grant.tranches[0]
        grant.tranches = grant.tranches[1:]
        return grant

    def revoke(self, grant_id: int, data: RevokeIn) -> VoucherGrant:
        """Withdraw an approved grant; optionally claw back all it redeemed."""
        _program, grant = self._issued_grant(grant_id)
        if grant.status is not GrantStatus.APPROVED:
            raise ConflictError(f"grant {grant_id} is {grant.status}; only approved grants")
        grant.status = GrantStatus.REVOKED
        grant.reason = data.reason
        grant.decided_at = self.clock.now()
        if data.claw_back:
            for redemption in vouchers_repo.redemptions(self.session, grant_id=grant.id):
                if redemption.amount_fen > redemption.clawed_back_fen:
                    self._claw_back(redemption, None, f"grant revoked: {data.reason}")
        return grant

    # -- redemptions and clawbacks ------------------------------------------------------
    def _sees_redemption(self, redemption: VoucherRedemption) -> bool:
        p = self.principal
        if p is None or p.is_operator:
            return True
        if p.org_id in (redemption.buyer_id, redemption.provider_id):
            return True
        program = vouchers_repo.program(self.session, redemption.program_id)
        return program is not None and program.issuer_id == p.org_id

    def redemptions(self, *, program_id: int | None = None) -> list[VoucherRedemption]:
        self._require(Scope.VOUCHERS_READ)
        p = self.principal
        program_ids = None if program_id is None else [program_id]
        if p is None or p.is_operator:
            return vouchers_repo.redemptions(self.session, program_ids=program_ids)
        if p.role is OrgRole.ISSUER:
            own = [prog.id for prog in vouchers_repo.programs(self.session, issuer_id=p.org_id)]
            ids = [i for i in (program_ids or own) if i in own]
            return vouchers_repo.redemptions(self.session, program_ids=ids)
        if p.role is OrgRole.PROVIDER:
            return vouchers_repo.redemptions(
                self.session, program_ids=program_ids, provider_id=p.org_id
            )
        return vouchers_repo.redemptions(self.session, program_ids=program_ids, buyer_id=p.org_id)

    def usage_record_ids(self, redemption: VoucherRedemption) -> list[int]:
        """The metered usage a redemption paid for (the records its lease's charge billed)."""
        return [record.id for record in work_repo.usage_records(self.session, redemption.lease_id)]

    def claw_back(self, redemption_id: int, data: ClawbackIn) -> VoucherClawback:
        self._require(Scope.VOUCHERS_ISSUE)
        found = vouchers_repo.redemption(self.session, redemption_id)
        if found is None or not self._sees_redemption(found):
            raise NotFoundError("voucher redemption", redemption_id)
        program = vouchers_repo.program(self.session, found.program_id, lock=True)
        if program is None or not self._runs(program):
            raise NotFoundError("voucher redemption", redemption_id)
        return self._claw_back(found, data.amount_fen, data.reason)

    def _claw_back(
        self, redemption: VoucherRedemption, amount_fen: int | None, reason: str
    ) -> VoucherClawback:
        """Take ``amount_fen`` (default: all that is left) of a redemption back into the
        fund, from whoever received it. Caller holds the program's row lock."""
        locked = vouchers_repo.redemption(self.session, redemption.id, lock=True)
        assert locked is not None
        left = locked.amount_fen - locked.clawed_back_fen
        amount = left if amount_fen is None else amount_fen
        if amount <= 0 or amount > left:
            raise ValidationError(
                f"redemption {locked.id} has {yuan(left)} left to claw back, not {yuan(amount)}"
            )
        program = vouchers_repo.program(self.session, locked.program_id)
        grant = vouchers_repo.grant(self.session, locked.grant_id, lock=True)
        assert program is not None and grant is not None
        if locked.mode is SettlementMode.PROVIDER_CLAIM:
            source = Leg(locked.provider_id, AccountKind.EARNINGS, 0)
        else:
            source = Leg(locked.buyer_id, AccountKind.WALLET, 0)
        txn = self.ledger.clawback(
            program.issuer_id,
            program.id,
            amount,
            source=source,
            lease_id=locked.lease_id,
            reason=reason,
        )
        locked.clawed_back_fen += amount
        grant.redeemed_fen -= amount
        clawback = VoucherClawback(
            redemption_id=locked.id,
            amount_fen=amount,
            reason=reason,
            transaction_id=txn.id,
            created_at=self.clock.now(),
        )
        self.session.add(clawback)
        self.session.flush()
        return clawback


def effective_rate(grant: VoucherGrant, domestic: bool) -> Decimal:
    """The rate a grant pays on a lease of a domestic (or foreign) accelerator."""
    assert grant.rate is not None
    return rules.lease_rate(grant.rate, grant.domestic_rate, domestic)
