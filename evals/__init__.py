"""Evals: suites of gold cases that score every stage, metrics, runner and reports."""
