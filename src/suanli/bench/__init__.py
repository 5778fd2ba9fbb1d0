"""Benchmarks of placement policies on real cluster traces."""
