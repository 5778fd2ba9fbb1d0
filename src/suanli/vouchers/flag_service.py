"""Anomaly flags as callers see them: list, read, resolve, scan.

Visibility follows :mod:`suanli.vouchers.service`: the operator sees every flag; an
issuer the flags of its own programs; a buyer or provider the flags that name it.
Other flags answer 404. Only an issuer (of the flag's program) or the operator resolves
a flag or runs the flow-back scan.

Resolving a flag as ``confirmed`` with ``claw_back`` takes the subsidy back into the
program's fund: for a lease flag, what is left of that lease's redemption; for a
money-flowback flag (no lease), what is left of every redemption the program paid on
deals between that buyer and that provider. Each clawback is a
:class:`~suanli.store.models.VoucherClawback`, and the flag's resolution says what was
taken.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from suanli.kit.clock import Clock
from suanli.kit.errors import ConflictError, NotFoundError, ValidationError
from suanli.kit.money import yuan
from suanli.orgs.auth import Principal, Scope
from suanli.store import vouchers_repo
from suanli.store.models import VoucherFlag, VoucherRedemption
from suanli.vocab import FlagKind, FlagStatus, OrgRole
from suanli.vouchers.flags import scan_flowback
from suanli.vouchers.schemas import ClawbackIn, FlagResolveIn
from suanli.vouchers.service import Vouchers


class VoucherFlags:
    """Flags for one caller (``principal`` None: the system, which sees everything)."""

    def __init__(self, session: Session, clock: Clock, principal: Principal | None) -> None:
        self.session = session
        self.clock = clock
        self.principal = principal
        self.vouchers = Vouchers(session, clock, principal)

    def _require(self, scope: Scope) -> None:
        if self.principal is not None:
            self.principal.require(scope)

    def _own_program_ids(self) -> list[int] | None:
        """The programs whose flags the caller sees in full (None: all of them)."""
        p = self.principal
        if p is None or p.is_operator:
            return None
        if p.role is OrgRole.ISSUER:
            return [prog.id for prog in vouchers_repo.programs(self.session, issuer_id=p.org_id)]
        return []

    def _sees(self, flag: VoucherFlag) -> bool:
        p = self.principal
        if p is None or p.is_operator or p.org_id in (flag.buyer_id, flag.provider_id):
            return True
        own = self._own_program_ids() or []
        return flag.program_id is not None and flag.program_id in own

    def _runs(self, flag: VoucherFlag) -> bool:
        p = self.principal
        if p is None or p.is_operator:
            return True
        if flag.program_id is None:
            return False
        program = vouchers_repo.program(self.session, flag.program_id)
        return program is not None and program.issuer_id == p.org_id

    def flag(self, flag_id: int) -> VoucherFlag:
        self._require(Scope.VOUCHERS_READ)
        flag = vouchers_repo.flag(self.session, flag_id)
        if flag is None or not self._sees(flag):
            raise NotFoundError("voucher flag", flag_id)
        return flag

    def flags(
        self, *, status: FlagStatus | None = None, kind: FlagKind | None = None
    ) -> list[VoucherFlag]:
        self._require(Scope.VOUCHERS_READ)
        p = self.principal
        own = self._own_program_ids()
        found = vouchers_repo.flags(self.session, program_ids=own or None, status=status, kind=kind)
        if p is None or p.is_operator:
            return found
        if p.role is OrgRole.ISSUER:
            return found if own else []
        return [f for f in found if p.org_id in (f.buyer_id, f.provider_id)]

    def resolve(self, flag_id: int, data: FlagResolveIn) -> VoucherFlag:
        """Dismiss or confirm an open flag; a confirmation may claw the subsidy back."""
        self._require(Scope.VOUCHERS_ISSUE)
        found = vouchers_repo.flag(self.session, flag_id)
        if found is None or not self._runs(found):
            raise NotFoundError("voucher flag", flag_id)
        if data.claw_back and data.status is not FlagStatus.CONFIRMED:
            raise ValidationError("claw_back: only a confirmed flag claws the subsidy back")
        if found.program_id is not None:  # lock order: program before the flag
            vouchers_repo.program(self.session, found.program_id, lock=True)
        flag = vouchers_repo.flag(self.session, flag_id, lock=True)
        assert flag is not None
        if flag.status is not FlagStatus.OPEN:
            raise ConflictError(f"flag {flag_id} is already {flag.status}")
        resolution = data.resolution.strip()
        if data.claw_back:
            taken = [
                (r.id, self._claw_back(r, f"flag {flag.id} confirmed: {resolution}"))
                for r in self._subsidies(flag)
                if r.amount_fen > r.clawed_back_fen
            ]
            if taken:
                parts = ", ".join(f"{yuan(amount)} of redemption {rid}" for rid, amount in taken)
                resolution += f" (clawed back {parts})"
            else:
                resolution += " (no subsidy left to claw back)"
        flag.status = data.status
        flag.resolution = resolution
        flag.resolved_at = self.clock.now()
        return flag

    def _subsidies(self, flag: VoucherFlag) -> list[VoucherRedemption]:
        if flag.lease_id is not None:
            redemption = vouchers_repo.redemption_of_lease(self.session, flag.lease_id)
            return [] if redemption is None else [redemption]
        if flag.program_id is None:
            return []
        return vouchers_repo.redemptions(
            self.session,
            program_ids=[flag.program_id],
            buyer_id=flag.buyer_id,
            provider_id=flag.provider_id,
        )

    def _claw_back(self, redemption: VoucherRedemption, reason: str) -> int:
        clawback = self.vouchers.claw_back(redemption.id, ClawbackIn(reason=reason[:2000]))
        return clawback.amount_fen

    def scan(self) -> list[VoucherFlag]:
        """Look for subsidy flowing back (payout destinations that top up buyers); the
        flags the caller may see, new or already raised."""
        self._require(Scope.VOUCHERS_ISSUE)
        return [flag for flag in scan_flowback(self.session, self.clock) if self._sees(flag)]
