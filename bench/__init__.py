"""Benchmarks, run by `make bench` (results and the exact command: docs/benchmarks.md)."""
