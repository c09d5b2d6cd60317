"""Which declarations a run watches: bundled lists by name, users' files by path.

A selection is an ordered list of references, each the name of a bundled list
(``ai-platforms``, ``sample``) or the path of a declarations file. Their declarations are
combined in order; a later one for the same platform and document type replaces the earlier
one (a user's file can fix a moved URL of a bundled list without copying it).

The selection comes from ``--sources`` (repeatable), else ``CLAUSEWATCH_SOURCES``
(comma-separated), else ``CLAUSEWATCH_SOURCES_FILE``, else the shipped sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from clausewatch.archive.declarations import declared_history, validate_sources
from clausewatch.core.errors import ConfigError
from clausewatch.core.settings import PACKAGE_DIR, SAMPLE_SOURCES, Settings, get_settings
from clausewatch.schemas.sources import SourceDecl, SourceProblem

BUNDLED_DIR = PACKAGE_DIR / "watchlists"
SAMPLE_NAME = "sample"


def bundled_lists() -> dict[str, Path]:
    """Every bundled list by name: the files of ``clausewatch/watchlists`` and the sample."""
    lists = {path.stem: path for path in sorted(BUNDLED_DIR.glob("*.yaml"))}
    lists[SAMPLE_NAME] = SAMPLE_SOURCES
    return dict(sorted(lists.items()))


def resolve_ref(ref: str) -> Path:
    """The file of a bundled list's name, else ``ref`` as a path (which must exist)."""
    lists = bundled_lists()
    if ref in lists:
        return lists[ref]
    path = Path(ref).expanduser()
    if path.is_file():
        return path
    names = ", ".join(lists)
    raise ConfigError(f"no bundled list or declarations file {ref!r} (bundled lists: {names})")


def configured_refs(settings: Settings | None = None) -> list[str]:
    """The selection when no ``--sources`` is given."""
    s = settings or get_settings()
    if s.sources and s.sources.strip():
        return [ref.strip() for ref in s.sources.split(",") if ref.strip()]
    if s.sources_file is not None:
        return [str(s.sources_file)]
    return [SAMPLE_NAME]


def history_dirs(refs: Sequence[str]) -> list[Path]:
    """The folders of earlier versions the selection's files bring (their ``history:``
    option, e.g. the shipped sample's), in selection order, each once."""
    out: list[Path] = []
    for ref in refs:
        folder = declared_history(resolve_ref(ref))
        if folder is not None and folder not in out:
            out.append(folder)
    return out


@dataclass
class Selection:
    """The combined declarations of a selection, every problem, and what was replaced."""

    sources: list[SourceDecl] = field(default_factory=list)
    problems: list[SourceProblem] = field(default_factory=list)
    overrides: list[str] = field(default_factory=list)  # "chatgpt/privacy_policy: a.yaml > b"
    files: list[Path] = field(default_factory=list)


def validate_selection(refs: Sequence[str]) -> Selection:
    """Load every reference in order and combine them (later declarations replace earlier)."""
    out = Selection()
    by_key: dict[str, tuple[int, Path]] = {}
    for ref in refs:
        try:
            path = resolve_ref(ref)
        except ConfigError as exc:
            out.problems.append(SourceProblem(file=ref, message=str(exc)))
            continue
        out.files.append(path)
        sources, problems = validate_sources(path)
        out.problems.extend(problems)
        for decl in sources:
            if decl.key in by_key:
                index, earlier = by_key[decl.key]
                out.sources[index] = decl
                out.overrides.append(f"{decl.key}: {path} replaces {earlier}")
                by_key[decl.key] = (index, path)
            else:
                by_key[decl.key] = (len(out.sources), path)
                out.sources.append(decl)
    return out


def load_selection(refs: Sequence[str] | None = None) -> list[SourceDecl]:
    """The declarations of ``refs`` (default: the configured selection); a ConfigError
    naming the first problems if any."""
    refs = list(refs) if refs else configured_refs()
    selection = validate_selection(refs)
    if selection.problems:
        problems = selection.problems
        first = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ConfigError(
            f"{len(problems)} problem(s) in {', '.join(refs)}: {first}{more}; "
            "run 'clausewatch sources validate' for the full list"
        )
    return selection.sources
