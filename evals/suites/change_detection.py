"""``change-detection``: known edits applied to real documents -> precision and recall of
segmentation + alignment per change kind, and false changes on cosmetic perturbations.

Gold: JSON Lines ``{"id", "path", "seed", "edits", "cosmetic"}``; ``path`` is a Markdown or
text version of a real document (absolute, relative to the gold file, or relative to the
shared policies folder). For each case the suite:

1. applies ``edits`` known edits (``evals.edits``: modify, one-word, add, remove, move, in
   turn) with ``random.Random(seed)`` and, when ``cosmetic``, cosmetic perturbations on top;
   a detected change counts as correct when its kind and its clause texts (canonical form)
   match an expected change; other detected changes are false positives of their kind;
2. perturbs the original cosmetically only (white space, wrapping, quotes, dashes, emphasis,
   link targets, dates, renumbering): every detected change is a false change.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from clausewatch.core.errors import InputError
from clausewatch.evals.gold import gold_file, load_jsonl
from clausewatch.evals.metrics import PRF, mean
from clausewatch.evals.registry import RunOptions
from clausewatch.schemas.clauses import ClauseChange
from clausewatch.schemas.evals import CaseResult, ChangeDetectionCase, EvalReport
from clausewatch.schemas.vocabulary import ChangeKind

KINDS: tuple[str, ...] = tuple(ChangeKind)
EDIT_ORDER = ("modify", "one_word", "add", "remove", "move")
POLICIES = Path(__file__).resolve().parents[3] / "shared" / "data" / "policies"


def resolve_path(case: ChangeDetectionCase, gold_file: Path) -> Path:
    raw = Path(case.path)
    for candidate in (raw, gold_file.parent / raw, POLICIES / raw):
        if candidate.is_file():
            return candidate
    raise InputError(f"{gold_file}: case {case.id!r}: document not found: {case.path}")


def _texts(change: ClauseChange) -> tuple[str | None, str | None]:
    from clausewatch.clauses.canonical import canonical

    return (
        canonical(change.old.text) if change.old else None,
        canonical(change.new.text) if change.new else None,
    )


def score_changes(
    expected: list[tuple[str, str | None, str | None]], detected: list[ClauseChange]
) -> tuple[dict[str, PRF], list[dict[str, object]], list[ClauseChange]]:
    """Per-kind counts; ``expected`` holds (kind, canonical old text, canonical new text)."""
    counts = {k: PRF() for k in KINDS}
    used: set[int] = set()
    misses: list[dict[str, object]] = []
    for kind, old, new in expected:
        hit = None
        for i, change in enumerate(detected):
            if i in used or change.kind != kind:
                continue
            d_old, d_new = _texts(change)
            if (old is None or d_old == old) and (new is None or d_new == new):
                hit = i
                break
        if hit is None:
            counts[kind].fn += 1
            misses.append({"kind": kind, "old": (old or "")[:120], "new": (new or "")[:120]})
        else:
            used.add(hit)
            counts[kind].tp += 1
    spurious = [change for i, change in enumerate(detected) if i not in used]
    for change in spurious:
        counts[change.kind].fp += 1
    return counts, misses, spurious


def _brief(change: ClauseChange) -> dict[str, str]:
    ref = change.new or change.old
    return {"kind": change.kind, "text": ref.text[:120] if ref else ""}


class ChangeDetectionSuite:
    name = "change-detection"
    description = (
        "segmentation + alignment on known edits of real documents: precision/recall per "
        "change kind, false changes on cosmetic perturbations"
    )
    data_format = 'JSONL: {"id", "path", "seed", "edits", "cosmetic"}'

    def default_data(self, split: str = "dev") -> Path:
        return gold_file("change-detection", split)

    def run(self, options: RunOptions) -> EvalReport:
        from clausewatch.clauses.align import align
        from clausewatch.clauses.canonical import canonical
        from clausewatch.clauses.segment import segment
        from clausewatch.evals.edits import KNOWN_EDITS, NoCandidate, perturb

        path = options.data or self.default_data(options.split)
        cases = load_jsonl(path, ChangeDetectionCase)
        cases = cases[: options.limit] if options.limit else cases
        totals = {k: PRF() for k in KINDS}
        results: list[CaseResult] = []
        false_changes = 0
        cosmetic_clauses = 0
        docs_with_false = 0
        latencies: list[float] = []
        for n, case in enumerate(cases):
            text = resolve_path(case, path).read_text(encoding="utf-8")
            rng = random.Random(case.seed)  # noqa: S311 - reproducible edits, not crypto
            try:
                old = segment(text, with_tokens=False)
                if not old:
                    raise InputError("document has no clauses")
                # 1. known edits (+ cosmetic noise)
                edited = text
                expected: list[tuple[str, str | None, str | None]] = []
                touched: list[str] = []
                skipped: list[str] = []
                for i in range(case.edits):
                    kind = EDIT_ORDER[i % len(EDIT_ORDER)]
                    try:
                        result = KNOWN_EDITS[kind](edited, rng, touched)
                    except NoCandidate:
                        skipped.append(kind)
                        continue
                    edited = result.text
                    for change in result.expected:
                        expected.append(
                            (
                                change.kind,
                                canonical(change.old_text) if change.old_text else None,
                                canonical(change.new_text) if change.new_text else None,
                            )
                        )
                        touched.extend(t for t in (change.old_text, change.new_text) if t)
                if case.cosmetic:
                    edited = perturb(edited, rng)
                t0 = time.perf_counter()
                detected = align(old, segment(edited, with_tokens=False)).changes
                latencies.append(1000 * (time.perf_counter() - t0))
                counts, misses, spurious = score_changes(expected, detected)
                # 2. cosmetic perturbations only
                cosmetic = perturb(text, random.Random(case.seed + 1))  # noqa: S311
                noise = align(old, segment(cosmetic, with_tokens=False)).changes
            except InputError as exc:
                results.append(CaseResult(id=case.id, ok=False, error=str(exc)))
                continue
            for kind in KINDS:
                totals[kind].tp += counts[kind].tp
                totals[kind].fp += counts[kind].fp
                totals[kind].fn += counts[kind].fn
            false_changes += len(noise)
            cosmetic_clauses += len(old)
            docs_with_false += bool(noise)
            tp = sum(c.tp for c in counts.values())
            fp = sum(c.fp for c in counts.values())
            fn = sum(c.fn for c in counts.values())
            results.append(
                CaseResult(
                    id=case.id,
                    ok=fp == 0 and fn == 0 and not noise,
                    metrics={
                        "expected": float(len(expected)),
                        "detected": float(len(detected)),
                        "tp": float(tp),
                        "fp": float(fp),
                        "fn": float(fn),
                        "false_changes_cosmetic": float(len(noise)),
                        "clauses": float(len(old)),
                    },
                    detail={
                        "missed": misses,
                        "skipped_edits": skipped,
                        "spurious": [_brief(c) for c in spurious[:10]],
                        "cosmetic_false_changes": [_brief(c) for c in noise[:10]],
                    },
                )
            )
            if options.progress:
                options.progress(n + 1, len(cases))
        metrics: dict[str, float] = {}
        for kind in KINDS:
            metrics[f"precision.{kind}"] = totals[kind].precision
            metrics[f"recall.{kind}"] = totals[kind].recall
        overall = PRF(
            sum(t.tp for t in totals.values()),
            sum(t.fp for t in totals.values()),
            sum(t.fn for t in totals.values()),
        )
        metrics["precision"] = overall.precision
        metrics["recall"] = overall.recall
        metrics["f1"] = overall.f1
        metrics["false_change_rate.cosmetic"] = false_changes / max(cosmetic_clauses, 1)
        metrics["docs_with_false_changes.cosmetic"] = float(docs_with_false)
        metrics["documents"] = float(len(results))
        metrics["expected_changes"] = float(overall.tp + overall.fn)
        metrics["align_ms_mean"] = mean(latencies)
        return EvalReport(suite=self.name, metrics=metrics, cases=results)


SUITE = ChangeDetectionSuite()
