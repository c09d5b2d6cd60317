"""Labelled clause sets: our shipped examples, CLAUDETTE-layout folders, approved drafts.

Every row says which labels it is *annotated for*: a CLAUDETTE sentence only tells us about
the eight UNFAIR-ToS categories, so it is a negative for those and says nothing about, say,
``data-retention``. Training uses a row for a label only when the row is annotated for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from clausewatch.core.errors import InputError
from clausewatch.schemas.taxonomy import CATEGORIES, CLAUDETTE_TO_SLUG, UNFAIR_TOS_SLUGS
from clausewatch.schemas.vocabulary import DraftStatus

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
NONE_KEY = "none"
_TAG = re.compile(r"^([a-z]+)([123])$")


@dataclass
class LabelledSet:
    """Parallel lists: text, gold labels, group (document) and labels the row is annotated for."""

    texts: list[str] = field(default_factory=list)
    labels: list[frozenset[str]] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    annotated: list[frozenset[str]] = field(default_factory=list)

    def add(self, text: str, labels: Iterable[str], group: str, annotated: Iterable[str]) -> None:
        self.texts.append(text)
        self.labels.append(frozenset(labels))
        self.groups.append(group)
        self.annotated.append(frozenset(annotated))

    def extend(self, other: LabelledSet) -> LabelledSet:
        self.texts += other.texts
        self.labels += other.labels
        self.groups += other.groups
        self.annotated += other.annotated
        return self

    def subset(self, indices: Iterable[int]) -> LabelledSet:
        out = LabelledSet()
        for i in indices:
            out.add(self.texts[i], self.labels[i], self.groups[i], self.annotated[i])
        return out

    def __len__(self) -> int:
        return len(self.texts)


def load_examples(directory: Path = EXAMPLES_DIR) -> LabelledSet:
    """Our own labelled sentences (``clausewatch/classifier/examples/*.yaml``: slug -> list of
    sentences)."""
    by_text: dict[str, set[str]] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise InputError(f"no example files (*.yaml) in {directory}")
    for path in files:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(f"{path}: invalid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise InputError(f"{path}: expected a mapping of slug -> list of sentences")
        for slug, texts in raw.items():
            if slug != NONE_KEY and slug not in CATEGORIES:
                raise InputError(f"{path}: unknown taxonomy slug {slug!r}")
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise InputError(f"{path}: {slug}: expected a list of sentences")
            for text in texts:
                labels = by_text.setdefault(text.strip(), set())
                if slug != NONE_KEY:
                    labels.add(slug)
    out = LabelledSet()
    for i, (text, labels) in enumerate(by_text.items()):
        out.add(text, labels, group=f"example-{i}", annotated=CATEGORIES)
    return out


def parse_tags(line: str) -> set[str]:
    """Slugs of a CLAUDETTE tag line: levels 2 and 3 of the eight UNFAIR-ToS categories."""
    slugs: set[str] = set()
    for tag in line.split():
        match = _TAG.match(tag)
        if match and int(match.group(2)) >= 2 and match.group(1) in CLAUDETTE_TO_SLUG:
            slugs.add(CLAUDETTE_TO_SLUG[match.group(1)])
    return slugs


def claudette_dirs(root: Path, language: str = "en") -> tuple[Path, Path]:
    sentences = root / "sentences" / language / "original"
    tags = root / "tags" / language / "original"
    if not sentences.is_dir() or not tags.is_dir():
        raise InputError(
            f"{root}: not in the CLAUDETTE layout (expected sentences/{language}/original/"
            f"<Doc>.txt and tags/{language}/original/<Doc>.txt)"
        )
    return sentences, tags


def load_claudette(root: Path, language: str = "en") -> LabelledSet:
    """Sentences and line-aligned tags of every document; the group is the document name."""
    sentences_dir, tags_dir = claudette_dirs(root, language)
    out = LabelledSet()
    files = sorted(sentences_dir.glob("*.txt"))
    if not files:
        raise InputError(f"{sentences_dir}: no <Doc>.txt files")
    for path in files:
        tag_path = tags_dir / path.name
        if not tag_path.exists():
            raise InputError(f"{tag_path}: missing tags file for {path.name}")
        lines = path.read_text(encoding="utf-8").splitlines()
        tags = tag_path.read_text(encoding="utf-8").splitlines()
        if len(tags) > len(lines) and any(t.strip() for t in tags[len(lines) :]):
            raise InputError(
                f"{tag_path}: {len(tags)} tag lines but {len(lines)} sentences in {path}"
            )
        for i, text in enumerate(lines):
            if not text.strip():
                continue
            out.add(
                text.strip(),
                parse_tags(tags[i]) if i < len(tags) else set(),
                group=path.stem,
                annotated=UNFAIR_TOS_SLUGS,
            )
    return out


def load_approved_drafts() -> LabelledSet:
    """Editors' approved categories: the clause text (or excerpt) of every approved draft."""
    from sqlalchemy import select

    from clausewatch.storage.db import session_scope
    from clausewatch.storage.models.archive import Clause
    from clausewatch.storage.models.drafts import DEMO_BACKEND, Draft

    out = LabelledSet()
    with session_scope() as session:
        rows = session.execute(
            select(Draft, Clause.text)
            .outerjoin(Clause, Clause.id == Draft.clause_id)
            .where(Draft.status == DraftStatus.APPROVED, Draft.backend != DEMO_BACKEND)
        ).all()
        for draft, clause_text in rows:
            analysis = draft.analysis or {}
            cats = [c for c in analysis.get("categories", []) if c in CATEGORIES]
            text = clause_text or analysis.get("excerpt")
            if cats and isinstance(text, str) and text.strip():
                out.add(text.strip(), cats, group=f"draft-{draft.id}", annotated=CATEGORIES)
    return out
