"""Benchmarks: measured speed, cost and scale of the bridge, each beside its floor (``python -m bench``)."""
