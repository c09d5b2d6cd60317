"""Per-suite thresholds (``evals/thresholds.yaml`` or a file given by the user)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from clausewatch.core.errors import ConfigError
from clausewatch.schemas.evals import EvalReport

THRESHOLDS_FILE = Path(__file__).resolve().parent / "thresholds.yaml"


@dataclass(frozen=True)
class Gate:
    metric: str
    min: float | None = None
    max: float | None = None

    def violated(self, value: float | None) -> str | None:
        if value is None:
            return f"{self.metric}: missing from the report"
        if self.min is not None and value < self.min:
            return f"{self.metric} = {value:.4f} < {self.min}"
        if self.max is not None and value > self.max:
            return f"{self.metric} = {value:.4f} > {self.max}"
        return None


def load_thresholds(path: Path = THRESHOLDS_FILE) -> dict[str, list[Gate]]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read thresholds: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of suite -> metric -> {{min|max}}")
    out: dict[str, list[Gate]] = {}
    for suite, metrics in raw.items():
        if not isinstance(metrics, dict):
            raise ConfigError(f"{path}: {suite}: expected a mapping of metric -> {{min|max}}")
        gates = []
        for metric, spec in metrics.items():
            if not isinstance(spec, dict) or not set(spec) <= {"min", "max"} or not spec:
                raise ConfigError(f"{path}: {suite}.{metric}: expected {{min: x}} or {{max: x}}")
            try:
                gates.append(
                    Gate(
                        str(metric),
                        min=float(spec["min"]) if "min" in spec else None,
                        max=float(spec["max"]) if "max" in spec else None,
                    )
                )
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{path}: {suite}.{metric}: not a number") from exc
        out[str(suite)] = gates
    return out


def check(report: EvalReport, gates: dict[str, list[Gate]]) -> list[str]:
    """The violated gates of ``report`` (empty list: all pass)."""
    failures = []
    for gate in gates.get(report.suite, []):
        problem = gate.violated(report.metrics.get(gate.metric))
        if problem:
            failures.append(problem)
    return failures
