"""Read regulation full texts laid out as in ``shared/data/regulations`` and chunk them.

Recognised files (anywhere under the directory given):

- ``.../gdpr/articles/article_NNN.md``               -> ``gdpr:N``
- ``.../eu_ai_act/articles/artN.md``                 -> ``eu-ai-act:N``
- ``.../eprivacy_directive/articles/artN.md``        -> ``eprivacy:N``
- ``.../ccpa_cpra/statute/civ-1798.NNN.md``          -> ``ccpa:1798.NNN``
- ``.../ccpa_cpra/regulations_11ccr/11-ccr-NNNN.md`` -> ``ccpa-regs:NNNN``

Each article or section is split into chunks of at most ``max_words`` words on paragraph
boundaries; every chunk carries the provision id it belongs to, so full-text hits map back to
the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

from clausewatch.core.errors import InputError

MAX_FILE_BYTES = 2 * 1024 * 1024

_RULES: list[tuple[str, re.Pattern[str], str]] = [
    ("gdpr", re.compile(r"^article_0*(\d+)\.md$"), "gdpr"),
    ("eu_ai_act", re.compile(r"^art0*(\d+)\.md$"), "eu-ai-act"),
    ("eprivacy", re.compile(r"^art0*(\d+)\.md$"), "eprivacy"),
    ("ccpa", re.compile(r"^civ-(1798(?:\.\d+)+)\.md$"), "ccpa"),
    ("11ccr", re.compile(r"^11-ccr-(\d+)\.md$"), "ccpa-regs"),
]
_PARA_START = re.compile(r"^\s*(?:\d+\.|\([a-zA-Z0-9]+\)|#+\s)")


@dataclass(frozen=True)
class Chunk:
    provision_id: str
    regulation: str
    title: str
    source: str  # path relative to the imported directory
    index: int
    text: str


def classify(path: Path, root: Path) -> tuple[str, str] | None:
    """``(regulation, provision_id)`` for a recognised file, else None."""
    rel = path.relative_to(root)
    parts = [p.lower() for p in rel.parts[:-1]]
    if any(p.startswith("source") or p in {"recitals", "annexes"} for p in parts):
        return None
    joined = "/".join(parts)
    for marker, pattern, regulation in _RULES:
        if marker not in joined and not (marker == "gdpr" and path.name.startswith("article_")):
            continue
        if marker == "gdpr" and ("uk" in joined or "eu_ai_act" in joined):
            continue
        m = pattern.match(path.name)
        if m:
            return regulation, f"{regulation}:{m.group(1)}"
    return None


def _split_front_matter(raw: str) -> tuple[dict[str, Any], str]:
    """(YAML front matter, body) by python-frontmatter; a header that is not valid YAML is
    dropped (the title then comes from the first heading)."""
    handler = YAMLHandler()
    try:
        post = frontmatter.loads(raw, handler=handler)
    except yaml.YAMLError:
        return {}, handler.split(raw)[1] if handler.detect(raw) else raw
    return dict(post.metadata), post.content


def _title(meta: dict[str, Any], body: str) -> str:
    for key in ("title", "article_title"):
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split()).rstrip(".")
    for line in body.splitlines():
        if line.startswith("# "):
            head = line[2:].strip()
            return re.split(r"\s[–—-]\s", head, maxsplit=1)[-1]
    return ""


def _paragraphs(body: str) -> list[str]:
    body = body.split("## Source Notes", 1)[0]
    paras: list[str] = []
    current: list[str] = []
    for line in body.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("## Official Text", "Source:", "*Chapter")):
            if current:
                paras.append(" ".join(current))
                current = []
            continue
        if stripped.startswith("#"):
            if current:
                paras.append(" ".join(current))
                current = []
            continue
        if _PARA_START.match(line) and current and len(" ".join(current).split()) > 40:
            paras.append(" ".join(current))
            current = []
        current.append(stripped)
    if current:
        paras.append(" ".join(current))
    return [re.sub(r"\s+", " ", p).strip() for p in paras if p.strip()]


def chunk_text(paragraphs: list[str], max_words: int = 180) -> list[str]:
    """Pack paragraphs into chunks of at most ``max_words`` words (long ones are split)."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for para in paragraphs:
        words = para.split()
        while len(words) > max_words:
            if current:
                chunks.append(" ".join(current))
                current, size = [], 0
            chunks.append(" ".join(words[:max_words]))
            words = words[max_words:]
        if size + len(words) > max_words and current:
            chunks.append(" ".join(current))
            current, size = [], 0
        current.append(" ".join(words))
        size += len(words)
    if current:
        chunks.append(" ".join(current))
    return [c for c in chunks if c]


def read_chunks(directory: Path, *, max_words: int = 180) -> Iterator[Chunk]:
    """Every chunk of every recognised file under ``directory`` (sorted by path)."""
    root = directory.resolve()
    if not root.is_dir():
        raise InputError(f"not a directory: {directory}")
    for path in sorted(root.rglob("*.md")):
        if path.name.startswith("_"):
            continue
        found = classify(path, root)
        if found is None:
            continue
        regulation, pid = found
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
        try:
            raw = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text") from exc
        meta, body = _split_front_matter(raw)
        title = _title(meta, body)
        for i, text in enumerate(chunk_text(_paragraphs(body), max_words)):
            yield Chunk(pid, regulation, title, str(path.relative_to(root)), i, text)
