"""Load and validate the declarations file, reporting every problem with its location."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import soupsieve
import yaml
from pydantic import ValidationError

from clausewatch.archive.confine import file_root, is_within
from clausewatch.core.errors import ConfigError
from clausewatch.schemas.sources import URL_SCHEMES, SourceDecl, SourceProblem

_TOP_KEYS = ("sources", "history")


def resolve_location(url: str, base_dir: Path) -> str:
    """Turn a declared URL into an absolute one; relative file paths resolve against base_dir.

    Accepted file forms: ``file:///abs/path``, ``file://localhost/abs``, ``file:rel/path``,
    ``file://rel/path`` (the first segment is not a host here: it is relative to the file)
    and a bare path (``rel/path`` or ``/abs/path``).
    """
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return url
    if parts.scheme == "file":
        path = unquote(parts.netloc + parts.path) if parts.netloc not in ("", "localhost") else ""
        if not path:
            path = unquote(parts.path)
        p = Path(path)
    elif parts.scheme == "" or (len(parts.scheme) == 1 and url[1:3] in (":\\", ":/")):
        p = Path(url)
    else:
        return url
    if not p.is_absolute():
        p = base_dir / p
    return p.resolve().as_uri()


def _line(node: yaml.Node | None) -> int | None:
    return None if node is None else node.start_mark.line + 1


def _entry_label(index: int, raw: Any) -> str:
    label = f"#{index + 1}"
    if isinstance(raw, dict):
        platform, doc_type = raw.get("platform"), raw.get("doc_type")
        if platform or doc_type:
            label += f" {platform or '?'}/{doc_type or '?'}"
    return label


def _key_nodes(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                out.setdefault(str(k.value), (k, v))
    return out


def _duplicate_keys(node: yaml.Node) -> list[tuple[str, int | None]]:
    seen: set[str] = set()
    dups: list[tuple[str, int | None]] = []
    if isinstance(node, yaml.MappingNode):
        for k, _v in node.value:
            if isinstance(k, yaml.ScalarNode):
                if k.value in seen:
                    dups.append((str(k.value), _line(k)))
                seen.add(str(k.value))
    return dups


def _check_url(url: str, base_dir: Path, root: Path) -> str | None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme and scheme not in URL_SCHEMES and not (len(scheme) == 1 and url[1:2] == ":"):
        return f"scheme {scheme!r} is not supported (use https, http or file)"
    if scheme in ("http", "https"):
        if not parts.hostname:
            return "URL has no host"
        if any(c.isspace() for c in url):
            return "URL contains white space"
        if parts.username or parts.password:
            return "URL must not carry credentials"
        try:
            _ = parts.port
        except ValueError:
            return "URL has an invalid port"
        return None
    location = resolve_location(url, base_dir)
    path = Path(unquote(urlsplit(location).path))
    if not is_within(path, root):
        return (
            f"{path} is outside the file root {root} (the declarations file's folder unless "
            "CLAUSEWATCH_FILE_ROOT is set)"
        )
    if not path.exists():
        return f"file not found: {path}"
    if not path.is_file():
        return f"not a file: {path}"
    return None


def _check_history(value: Any, base_dir: Path, root: Path) -> tuple[Path | None, str | None]:
    """The folder named by ``history:`` (relative to the declarations file), or a problem."""
    if not isinstance(value, str) or not value.strip():
        return None, "'history' must be the path of a folder (relative to this file)"
    path = Path(value.strip()).expanduser()
    path = (path if path.is_absolute() else base_dir / path).resolve()
    if not is_within(path, root):
        return None, (
            f"history {path} is outside the file root {root} (the declarations file's folder "
            "unless CLAUSEWATCH_FILE_ROOT is set)"
        )
    if not path.is_dir():
        return None, f"history folder not found: {path}"
    return path, None


def declared_history(path: Path) -> Path | None:
    """The folder of earlier versions a declarations file brings (its ``history:`` option):
    ``<platform>/<doc_type>/<date>.md`` files a run imports before it fetches. ``None`` when
    the file declares none; a ConfigError when the option is wrong."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("history") is None:
        return None
    folder, problem = _check_history(data["history"], path.resolve().parent, file_root(path))
    if problem is not None:
        raise ConfigError(f"{path}: {problem}")
    return folder


def _check_selectors(selectors: list[str]) -> list[str]:
    problems = []
    for sel in selectors:
        try:
            soupsieve.compile(sel)
        except Exception as exc:  # soupsieve raises SelectorSyntaxError and others
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            problems.append(f"invalid CSS selector {sel!r}: {first}")
    return problems


def validate_sources(path: Path) -> tuple[list[SourceDecl], list[SourceProblem]]:
    """Parse ``path``; return the valid declarations and every problem found."""
    fname = str(path)
    problems: list[SourceProblem] = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], [SourceProblem(file=fname, message="declarations file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [SourceProblem(file=fname, message=f"cannot read: {exc}")]
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return [], [SourceProblem(file=fname, line=line, message=f"YAML syntax: {problem}")]
    if root is None or data is None:
        return [], [SourceProblem(file=fname, line=1, message="empty file: expected 'sources:'")]
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        msg = "top level must be a mapping with a 'sources' list"
        return [], [SourceProblem(file=fname, line=_line(root), message=msg)]
    top = _key_nodes(root)
    for key, line in _duplicate_keys(root):
        problems.append(SourceProblem(file=fname, line=line, message=f"duplicate key {key!r}"))
    for key, (knode, _v) in top.items():
        if key not in _TOP_KEYS:
            problems.append(
                SourceProblem(file=fname, line=_line(knode), message=f"unknown key {key!r}")
            )
    base_dir = path.resolve().parent
    files_root = file_root(path)
    if "history" in top:
        _folder, problem = _check_history(data.get("history"), base_dir, files_root)
        if problem is not None:
            problems.append(
                SourceProblem(file=fname, line=_line(top["history"][1]), message=problem)
            )
    if "sources" not in top:
        problems.append(SourceProblem(file=fname, line=1, message="missing 'sources' list"))
        return [], problems
    seq_node = top["sources"][1]
    raw_list = data.get("sources")
    if not isinstance(raw_list, list) or not isinstance(seq_node, yaml.SequenceNode):
        problems.append(
            SourceProblem(file=fname, line=_line(seq_node), message="'sources' must be a list")
        )
        return [], problems
    if not raw_list:
        problems.append(SourceProblem(file=fname, line=_line(seq_node), message="no sources"))

    valid: list[SourceDecl] = []
    seen: dict[tuple[str, str], str] = {}
    for i, (raw, node) in enumerate(zip(raw_list, seq_node.value, strict=True)):
        entry = _Entry(fname, _entry_label(i, raw), node, problems, files_root)
        decl = entry.check(raw, base_dir)
        if decl is None:
            continue
        pair = (decl.platform, decl.doc_type)
        if pair in seen:
            entry.add(f"duplicate of entry {seen[pair]} (same platform and doc_type)")
            continue
        seen[pair] = entry.label
        valid.append(_resolved(decl, base_dir))
    problems.sort(key=lambda p: p.line or 0)
    return valid, problems


def _resolved(decl: SourceDecl, base_dir: Path) -> SourceDecl:
    """``decl`` with its file locations (the document's and its parts') made absolute."""
    parts = [
        part.model_copy(update={"url": resolve_location(part.url, base_dir)}) for part in decl.parts
    ]
    return decl.model_copy(update={"url": resolve_location(decl.url, base_dir), "parts": parts})


class _Entry:
    """Checks one entry of the ``sources`` list, adding its problems with their lines."""

    def __init__(
        self,
        fname: str,
        label: str,
        node: yaml.Node,
        problems: list[SourceProblem],
        file_root: Path,
    ) -> None:
        self.fname = fname
        self.file_root = file_root
        self.label = label
        self.node = node
        self.line = _line(node)
        self.keys = _key_nodes(node)
        self.problems = problems
        self.ok = True

    def add(self, msg: str, field: str | None = None, line: int | None = None) -> None:
        self.ok = False
        self.problems.append(
            SourceProblem(
                file=self.fname, line=line or self.line, entry=self.label, field=field, message=msg
            )
        )

    def line_of(self, field: str) -> int | None:
        for name in (field, "keep") if field == "select" else (field,):
            if name in self.keys:
                return _line(self.keys[name][1])
        return self.line

    def line_of_loc(self, loc: list[str]) -> int | None:
        """The line of a validation error: its field's, or its part's field's."""
        if not loc:
            return None
        if loc[0] == "parts" and len(loc) > 1 and loc[1].isdigit():
            parts = self.keys.get("parts", (None, None))[1]
            if isinstance(parts, yaml.SequenceNode) and int(loc[1]) < len(parts.value):
                node = parts.value[int(loc[1])]
                keys = _key_nodes(node)
                if len(loc) > 2 and loc[2] in keys:
                    return _line(keys[loc[2]][1])
                return _line(node)
        return self.line_of(loc[0])

    def check(self, raw: Any, base_dir: Path) -> SourceDecl | None:
        if not isinstance(raw, dict):
            self.add("each source must be a mapping (platform, doc_type, url, ...)")
            return None
        for key, line in _duplicate_keys(self.node):
            self.add(f"duplicate key {key!r}", line=line)
        decl: SourceDecl | None = None
        try:
            decl = SourceDecl.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors():
                loc = [str(p) for p in err["loc"]]
                field = loc[0] if loc else None
                msg = err["msg"]
                if err["type"] == "extra_forbidden":
                    msg = "unknown key"
                elif err["type"] == "missing":
                    msg = "required"
                elif field == "platform" and err["type"] == "string_pattern_mismatch":
                    msg = "must be a slug: lower-case letters, digits and dashes"
                self.add(
                    msg,
                    field=".".join(loc) if loc else None,
                    line=self.line_of_loc(loc),
                )
        self.check_page(raw, base_dir, self.keys, prefix="")
        raw_parts = raw.get("parts")
        part_nodes = self.keys.get("parts", (None, None))[1]
        if isinstance(raw_parts, list) and isinstance(part_nodes, yaml.SequenceNode):
            if not raw_parts:
                self.add("'parts' is empty: list the pages or drop it", field="parts")
            for i, (part, node) in enumerate(zip(raw_parts, part_nodes.value, strict=True)):
                if isinstance(part, dict):
                    self.check_page(part, base_dir, _key_nodes(node), prefix=f"parts.{i}.")
        return decl if self.ok else None

    def check_page(
        self,
        raw: dict[str, Any],
        base_dir: Path,
        keys: dict[str, tuple[yaml.Node, yaml.Node]],
        prefix: str,
    ) -> None:
        """The URL and selectors of the document or of one of its parts."""

        def line_of(field: str) -> int | None:
            for name in (field, "keep") if field == "select" else (field,):
                if name in keys:
                    return _line(keys[name][1])
            return self.line

        url = raw.get("url")
        if isinstance(url, str) and url:
            url_problem = _check_url(url, base_dir, self.file_root)
            if url_problem:
                self.add(url_problem, field=f"{prefix}url", line=line_of("url"))
        for fld in ("select", "remove"):
            sels = raw.get(fld, raw.get("keep") if fld == "select" else None)
            if isinstance(sels, list):
                for msg in _check_selectors([s for s in sels if isinstance(s, str)]):
                    self.add(msg, field=f"{prefix}{fld}", line=line_of(fld))
        if "select" in raw and "keep" in raw:
            self.add("give either 'select' or 'keep', not both", field=f"{prefix}select")


def load_sources(path: Path) -> list[SourceDecl]:
    """The declarations in ``path``; a ConfigError naming the first problems if any."""
    sources, problems = validate_sources(path)
    if problems:
        first = "; ".join(str(p) for p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ConfigError(
            f"{len(problems)} problem(s) in {path}: {first}{more}; "
            "run 'clausewatch sources validate' for the full list"
        )
    return sources
