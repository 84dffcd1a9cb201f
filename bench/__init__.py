"""Benchmark: times each engine step against the nearest bare-DuckDB baseline."""
