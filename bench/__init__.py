"""Kelisim load and scale benchmarks: `python -m bench.run` (see bench/results.md)."""
