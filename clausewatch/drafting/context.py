"""Everything one draft is made from: the clause, its change, retrieval results, examples."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clausewatch.drafting.sentences import Sentence, bounded, split_sentences
from clausewatch.regulations.mapper import RegulationMap
from clausewatch.schemas.draft_context import ChangeRecord, ClauseRecord, DraftContextRecord
from clausewatch.schemas.retrieval import Comparable, RegulationCandidate, RegulationProvision
from clausewatch.schemas.vocabulary import ChangeKind

QUOTE_LIMIT = 2000  # ProvisionAnalysis quotes are bounded to this many characters


@dataclass(frozen=True)
class ClauseInput:
    uid: str
    text: str
    platform: str
    doc_type: str
    path: list[str] = field(default_factory=list)
    row_id: int | None = None  # clauses.id when the clause comes from the archive


@dataclass(frozen=True)
class ChangeInput:
    kind: ChangeKind
    old_text: str | None = None
    new_text: str | None = None
    old_path: list[str] = field(default_factory=list)
    new_path: list[str] = field(default_factory=list)

    def excerpts(self) -> tuple[str | None, str | None]:
        """Before/after quotes for ``ChangeInfo``: the changed sentences, verbatim, bounded."""
        old, new = self.old_text, self.new_text
        if self.kind == ChangeKind.ADDED or old is None:
            return None, bounded(new, QUOTE_LIMIT) if new else None
        if self.kind == ChangeKind.REMOVED or new is None:
            return bounded(old, QUOTE_LIMIT), None
        if self.kind == ChangeKind.MOVED or old == new:
            return bounded(old, QUOTE_LIMIT), bounded(new, QUOTE_LIMIT)
        return _changed_span(old, new)

    def fingerprint(self) -> dict[str, Any]:
        before, after = self.excerpts()
        return {"kind": self.kind, "before": before, "after": after}


def _changed_span(old: str, new: str) -> tuple[str | None, str | None]:
    """The run of sentences that differs between ``old`` and ``new`` (verbatim slices)."""
    a, b = split_sentences(old), split_sentences(new)
    sm = difflib.SequenceMatcher(a=[s.text for s in a], b=[s.text for s in b], autojunk=False)
    ops = [op for op in sm.get_opcodes() if op[0] != "equal"]
    if not ops:
        return bounded(old, QUOTE_LIMIT), bounded(new, QUOTE_LIMIT)
    i1, i2 = ops[0][1], ops[-1][2]
    j1, j2 = ops[0][3], ops[-1][4]
    return _slice(old, a, i1, i2), _slice(new, b, j1, j2)


def _slice(text: str, sents: list[Sentence], i: int, j: int) -> str | None:
    if i >= j:
        return None
    return bounded(text[sents[i].start : sents[j - 1].end], QUOTE_LIMIT)


@dataclass(frozen=True)
class Example:
    """An approved analysis shown to the model as an example."""

    draft_id: int
    platform: str
    doc_type: str
    clause: str
    title: str
    summary: str
    key_point: str
    exposure_level: str
    exposure_rationale: str
    provisions: list[str]
    score: float


@dataclass(frozen=True)
class Redraft:
    previous_draft_id: int
    instructions: str
    previous_title: str
    previous_summary: str
    previous_exposure: str


@dataclass
class DraftContext:
    clause: ClauseInput
    change: ChangeInput | None
    comparables: list[Comparable]
    regulations: list[RegulationCandidate]
    catalogue: Mapping[str, RegulationProvision]
    category_hint: list[str] = field(default_factory=list)
    examples: list[Example] = field(default_factory=list)
    redraft: Redraft | None = None
    retrieval_notes: list[str] = field(default_factory=list)
    # the mapper's ranking (``regulations`` holds its shortlist) and what it proposes to cite;
    # None when no mapper ran (the model's picks among ``regulations`` are cited then)
    regulation_map: RegulationMap | None = None

    def input_hash(self, *, prompt_id: str, prompt_version: str, model: str) -> str:
        """Identity of a draft: clause text, diff, retrieved ids, prompt id/version, model
        (and the editor's redraft instructions)."""
        payload = {
            "clause": self.clause.text,
            "clause_uid": self.clause.uid,
            "platform": self.clause.platform,
            "change": self.change.fingerprint() if self.change else None,
            "comparables": [c.clause_id for c in self.comparables],
            "regulations": [r.id for r in self.regulations],
            "prompt": [prompt_id, prompt_version],
            "model": model,
            "redraft": (
                [self.redraft.previous_draft_id, self.redraft.instructions]
                if self.redraft
                else None
            ),
        }
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def to_record(self) -> DraftContextRecord:
        """What ``Draft.context`` stores (what the editor sees beside the draft, and what
        grounding is re-checked against after edits)."""
        before, after = self.change.excerpts() if self.change else (None, None)
        return DraftContextRecord(
            clause=ClauseRecord(
                uid=self.clause.uid,
                text=self.clause.text,
                path=self.clause.path,
                platform=self.clause.platform,
                doc_type=self.clause.doc_type,
            ),
            change=ChangeRecord(
                kind=self.change.kind,
                before=before,
                after=after,
                old_text=self.change.old_text,
                new_text=self.change.new_text,
            )
            if self.change
            else None,
            comparables=self.comparables,
            regulations=self.regulations,
            category_hint=self.category_hint,
            examples=[e.draft_id for e in self.examples],
            redraft_of=self.redraft.previous_draft_id if self.redraft else None,
            retrieval_notes=self.retrieval_notes,
        )
