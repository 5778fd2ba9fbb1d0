"""Shared plumbing: errors, money, clocks. Nothing here knows about a domain."""
