"""A flow whose one task persists its result under a content key (as the draft task does), for
the shared Prefect results test; importable by a second process (another machine)."""

from __future__ import annotations

from prefect import flow, task
from prefect.cache_policies import INPUTS

CALLS: list[int] = []


@task(cache_policy=INPUTS, persist_result=True, result_serializer="json")
def square(x: int) -> int:
    CALLS.append(x)
    return x * x


@flow(name="square")
def square_flow(x: int) -> int:
    return square(x)


MACHINE_B = """
from clausewatch.flows.results import shared_results
from tests.prefect_results_support import CALLS, square_flow
with shared_results() as where:
    print(where, square_flow(7), len(CALLS))
"""
