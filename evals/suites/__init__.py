"""Eval suites (one module per suite, each defining ``SUITE``)."""
