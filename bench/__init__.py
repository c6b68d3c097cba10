"""Benchmarks run by `make bench` (`python -m bench.run`): speed figures and their ratios to
baselines, printed for people to compare. Not tests: nothing here passes or fails."""
