"""Gold cases may only name regulation provisions that exist in the catalogue."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from clausewatch.core.errors import InputError
from clausewatch.evals.gold import line_numbers


def check_provision_ids(path: Path, cases: Iterable[tuple[str, Iterable[str]]]) -> None:
    """Raise ``InputError`` (``file:line``) for the first unknown provision id."""
    from clausewatch.regulations.catalogue import load_catalogue

    catalogue = load_catalogue()
    lines = line_numbers(path)
    for case_id, ids in cases:
        unknown = sorted(set(ids) - set(catalogue))
        if unknown:
            line = lines.get(case_id, 0)
            raise InputError(
                f"{path}:{line}: case {case_id!r}: provision ids not in the regulation "
                f"catalogue: {', '.join(unknown)}"
            )
