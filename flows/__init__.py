"""Prefect flows: thin orchestration of small typed tasks. Logic lives in the packages."""
