"""Typed gold files: JSON Lines validated line by line, errors reported as ``file:line``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from clausewatch.core.errors import InputError

GOLD_DIR = Path(__file__).resolve().parent / "gold"

# Every gold set we wrote is split by platform (no platform in both parts): ``dev`` is what
# prompts, examples, weights and thresholds may be tuned on; ``test`` is frozen and only reported.
SPLITS = ("dev", "test")


def gold_file(name: str, split: str = "dev") -> Path:
    """The gold file of set ``name`` (e.g. ``analysis``) for ``split``."""
    if split not in SPLITS:
        raise InputError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    return GOLD_DIR / f"{name}.{split}.jsonl"


M = TypeVar("M", bound=BaseModel)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(case)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def load_jsonl(path: Path, model: type[M]) -> list[M]:
    """Every non-blank line of ``path`` as a ``model``; the first bad line raises
    :class:`InputError` naming ``file:line`` and the field. Duplicate ids are errors."""
    if not path.is_file():
        raise InputError(f"{path}: gold file not found")
    cases: list[M] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: invalid JSON: {exc.msg}") from exc
            try:
                case = model.model_validate(raw)
            except ValidationError as exc:
                raise InputError(f"{path}:{lineno}: {_describe(exc)}") from exc
            case_id = getattr(case, "id", None)
            if isinstance(case_id, str):
                if case_id in seen:
                    raise InputError(
                        f"{path}:{lineno}: duplicate id {case_id!r} (first on line {seen[case_id]})"
                    )
                seen[case_id] = lineno
            cases.append(case)
    if not cases:
        raise InputError(f"{path}: no cases")
    return cases


def line_numbers(path: Path) -> dict[str, int]:
    """id -> line number, for error messages raised after loading."""
    out: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    raw = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                    out[raw["id"]] = lineno
    return out
