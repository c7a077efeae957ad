"""Benchmarks of the overhead Nora adds on top of its providers; see bench/README.md."""
