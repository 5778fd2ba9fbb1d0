"""The center agent: runs inside a center, pulls its leases from the exchange, runs them
on the local cluster through a driver, reports transitions and metered usage."""
