"""API shapes for wallets and top-ups."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TopupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_fen: int = Field(gt=0, le=10**13, description="amount in fen (¥1 = 100 fen)")
    org_id: int | None = Field(default=None, description="operator only: whose wallet")
    memo: str = Field(default="top-up", max_length=200)
    counterparty: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="the account the money came from (bank account or payment id)",
    )


class WalletOut(BaseModel):
    org_id: int
    currency: str
    available_fen: int
    escrow_fen: int
    earnings_fen: int


class TopupOut(BaseModel):
    transaction_id: int
    wallet: WalletOut
