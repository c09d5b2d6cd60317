"""Grounding checks beyond the schema. Every failure is a message a re-ask can act on.

Two levels:
- ``check_answer``: the model's choices resolve (sentence numbers exist, comparisons name a
  retrieved provision, provision ids are retrieved candidates in the catalogue, slugs exist).
- ``check_grounding``: an assembled (or editor-edited) ``ProvisionAnalysis`` against its
  sources: excerpts verbatim after white-space normalisation, comparisons retrieved and
  quoted verbatim, provision ids in the catalogue, categories taxonomy slugs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from clausewatch.drafting.answer import ModelAnswer
from clausewatch.drafting.sentences import normalize_ws
from clausewatch.schemas.analysis import ProvisionAnalysis
from clausewatch.schemas.draft_context import DraftContextRecord
from clausewatch.schemas.retrieval import Comparable
from clausewatch.schemas.taxonomy import CATEGORIES


@dataclass(frozen=True)
class PromptView:
    """What the model was shown, by number and id."""

    sentence_count: int
    comparable_sentences: Mapping[str, int]  # clause id -> sentences shown
    regulation_ids: Collection[str]  # candidates that exist in the catalogue
    with_change: bool


def _listing(ids: Collection[str]) -> str:
    return ", ".join(sorted(ids)) if ids else "none (leave the list empty)"


def check_answer(answer: ModelAnswer, view: PromptView) -> list[str]:
    """Choices that do not resolve (repeats are already dropped by ``without_repeats``)."""
    errors: list[str] = []
    for slug in answer.categories:
        if slug not in CATEGORIES:
            errors.append(
                f"categories: {slug!r} is not a taxonomy slug; use slugs from the CATEGORIES list"
            )
    for n in answer.excerpt_sentences:
        if not 1 <= n <= view.sentence_count:
            errors.append(
                f"excerpt_sentences: sentence {n} does not exist in the clause; "
                f"choose numbers between 1 and {view.sentence_count}"
            )
    if view.with_change and not answer.change_summary:
        errors.append("change_summary: required, one line saying what the change does")
    for i, c in enumerate(answer.comparisons):
        where = f"comparisons[{i}]"
        if c.clause_id not in view.comparable_sentences:
            errors.append(
                f"{where}: {c.clause_id!r} is not a retrieved provision; use only ids from "
                f"COMPARABLE PROVISIONS: {_listing(view.comparable_sentences)}"
            )
            continue
        shown = view.comparable_sentences[c.clause_id]
        if not 1 <= c.sentence <= shown:
            errors.append(
                f"{where}: provision {c.clause_id} has no sentence {c.sentence}; "
                f"choose between 1 and {shown}"
            )
    for i, r in enumerate(answer.regulatory_landscape):
        where = f"regulatory_landscape[{i}]"
        if r.provision_id not in view.regulation_ids:
            errors.append(
                f"{where}: provision_id {r.provision_id!r} is not one of the REGULATION "
                f"CANDIDATES; use only: {_listing(view.regulation_ids)}"
            )
    return errors


def check_quality(answer: ModelAnswer, view: PromptView, clause_text: str) -> list[str]:
    """Problems of substance a re-ask can fix: nothing compared or cited although retrieval
    returned candidates, fields that repeat each other, prose that copies the clause.
    An answer failing only these is kept as a best effort for the editor."""
    errors: list[str] = []
    if view.comparable_sentences and not answer.comparisons:
        errors.append(
            "comparisons: compare with at least one provision from COMPARABLE PROVISIONS "
            "(the one closest in topic)"
        )
    if view.regulation_ids and not answer.regulatory_landscape:
        errors.append(
            "regulatory_landscape: cite at least one id from REGULATION CANDIDATES "
            "(the one the clause engages most)"
        )
    errors.extend(_repetitions(answer))
    errors.extend(_copies(answer, clause_text))
    return errors


COPY_RUN = 14  # this many consecutive clause words in a prose field is copying, not analysis
_PROSE_FIELDS = ("summary", "key_point", "interpretive_note", "what_this_means")


def _word_runs(text: str, n: int) -> set[tuple[str, ...]]:
    words = normalize_ws(text).lower().split()
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _copies(answer: ModelAnswer, clause_text: str) -> list[str]:
    clause_runs = _word_runs(clause_text, COPY_RUN)
    if not clause_runs:
        return []
    return [
        f"{name}: copies the clause word for word; explain it in your own words "
        "(excerpt_sentences already quote it)"
        for name in _PROSE_FIELDS
        if _word_runs(getattr(answer, name), COPY_RUN) & clause_runs
    ]


_DISTINCT_FIELDS = (
    "summary",
    "key_point",
    "interpretive_note",
    "what_this_means",
    "change_summary",
    "contract_vendor_implications",
)


def _repetitions(answer: ModelAnswer) -> list[str]:
    """Fields that merely repeat another field (small models copy one sentence around)."""
    seen: dict[str, str] = {}
    errors = []
    for name in _DISTINCT_FIELDS:
        value = getattr(answer, name)
        if not value:
            continue
        key = normalize_ws(value).lower().rstrip(".")
        for other, other_key in seen.items():
            if key == other_key or (len(key) > 40 and (key in other_key or other_key in key)):
                errors.append(
                    f"{name}: repeats {other}; write what this field asks for "
                    f"({_FIELD_HINTS[name]})"
                )
                break
        seen[name] = key
    return errors


_FIELD_HINTS = {
    "summary": "what the clause says, in plain language",
    "key_point": "why it matters",
    "interpretive_note": "what cannot be concluded from the clause, and why",
    "what_this_means": "the practical meaning for a user or organisation",
    "change_summary": "one line on what the change does",
    "contract_vendor_implications": "what procurement and legal teams should review",
}


@dataclass(frozen=True)
class GroundingSources:
    """The texts and ids an analysis must be grounded in."""

    clause_text: str
    comparables: Mapping[str, Comparable]
    catalogue_ids: Collection[str]
    candidate_ids: Collection[str] | None = None  # None: any catalogue id is acceptable

    @classmethod
    def from_record(
        cls, record: DraftContextRecord, catalogue_ids: Collection[str]
    ) -> GroundingSources:
        """From a stored ``Draft.context`` (which must hold its clause), e.g. after an edit."""
        if record.clause is None:
            raise ValueError("the record holds no clause to ground the analysis in")
        return cls(
            clause_text=record.clause.text,
            comparables={c.clause_id: c for c in record.comparables},
            catalogue_ids=catalogue_ids,
            candidate_ids=None,
        )


def _contains(haystack: str, needle: str) -> bool:
    return normalize_ws(needle) in normalize_ws(haystack)


def check_grounding(analysis: ProvisionAnalysis, sources: GroundingSources) -> list[str]:
    errors: list[str] = []
    if not _contains(sources.clause_text, analysis.excerpt):
        errors.append(
            "excerpt: not a verbatim quote of the clause; choose sentences of the clause "
            "instead of paraphrasing"
        )
    for slug in analysis.categories:
        if slug not in CATEGORIES:
            errors.append(f"categories: {slug!r} is not a taxonomy slug")
    for i, c in enumerate(analysis.comparisons):
        where = f"comparisons[{i}]"
        source = sources.comparables.get(c.clause_id)
        if source is None:
            errors.append(
                f"{where}: {c.clause_id!r} is not a provision retrieval returned; use only "
                f"ids from COMPARABLE PROVISIONS: {_listing(sources.comparables)}"
            )
            continue
        if c.platform != source.platform:
            errors.append(f"{where}: provision {c.clause_id} belongs to {source.platform}")
        if not _contains(source.text, c.excerpt):
            errors.append(f"{where}: excerpt is not a verbatim quote of provision {c.clause_id}")
    for i, r in enumerate(analysis.regulatory_landscape):
        where = f"regulatory_landscape[{i}]"
        if r.provision_id not in sources.catalogue_ids:
            errors.append(
                f"{where}: {r.provision_id!r} is not in the regulation catalogue; use only "
                "ids from REGULATION CANDIDATES"
            )
        elif sources.candidate_ids is not None and r.provision_id not in sources.candidate_ids:
            errors.append(
                f"{where}: {r.provision_id!r} was not among the retrieved candidates; use only: "
                f"{_listing(sources.candidate_ids)}"
            )
    return errors
