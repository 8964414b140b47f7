"""Benchmarks, run as `.venv/bin/python bench/NAME.py`; a package so that they share code."""
