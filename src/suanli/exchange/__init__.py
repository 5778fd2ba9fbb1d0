"""Requests and leases: the demand side, placement through the engine, and the
lease life cycle with its escrow, metering and settlement."""
