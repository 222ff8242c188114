"""Benchmarks of streampixel-pulumi: each figure measured beside its baseline in the same run.

Run from the repository root: ``python -m benchmarks.run`` (``--quick`` for a smoke run,
``--json`` for a record). Not part of the test suite's pass/fail; tests/test_benchmarks_smoke.py
runs the quick mode once so the code cannot rot.
"""
