"""Benchmarks: never run by pytest. See docs/benchmarks.md for results and commands."""
