"""Load prompt templates: YAML front matter (id, version, description, inputs) + Jinja2 body.

The body is split into chat messages by marker lines (``=== system ===``, ``=== user ===``,
``=== assistant ===``) *before* rendering, so nothing inside the rendered data (policy text is
untrusted) can create or close a message. Rendering uses ``StrictUndefined``; the inputs a
caller supplies must be exactly the inputs the front matter declares.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import frontmatter
import jinja2

from clausewatch.core.errors import ConfigError

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
SUFFIX = ".j2"
ROLES = ("system", "user", "assistant")
_MARKER = re.compile(r"^=== (system|user|assistant) ===[ \t]*$", re.MULTILINE)

# Delimiters of untrusted data blocks; the ``data`` filter neutralises them inside the data.
DATA_OPEN = "<<<"
DATA_CLOSE = ">>>"


class PromptError(ConfigError):
    """A prompt template is missing or malformed, or was given the wrong inputs."""


def data_filter(value: object) -> str:
    """Make untrusted text safe to place inside a ``<<<...>>>`` data block.

    The delimiters cannot occur in the output, so the text cannot close its block or open
    a new one; control characters other than newline and tab are dropped.
    """
    text = str(value)
    text = "".join(ch for ch in text if ch in "\n\t" or ch >= " ")
    text = text.replace("<<", "‹‹").replace(">>", "››")
    return text


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - prompts are plain text for a model, not HTML
        keep_trailing_newline=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["data"] = data_filter
    return env


_ENV = _environment()


@dataclass(frozen=True)
class RenderedPrompt:
    id: str
    version: str
    messages: list[dict[str, str]]

    def as_text(self) -> str:
        """The whole prompt as one text (stored with every draft)."""
        return "\n\n".join(f"=== {m['role']} ===\n{m['content']}" for m in self.messages)


@dataclass(frozen=True)
class PromptTemplate:
    id: str
    version: str
    description: str
    inputs: tuple[str, ...]
    path: Path
    parts: tuple[tuple[str, jinja2.Template], ...]

    def check_inputs(self, supplied: Mapping[str, Any]) -> None:
        missing = sorted(set(self.inputs) - set(supplied))
        unexpected = sorted(set(supplied) - set(self.inputs))
        problems = []
        if missing:
            problems.append(f"missing inputs {missing}")
        if unexpected:
            problems.append(f"undeclared inputs {unexpected}")
        if problems:
            raise PromptError(f"prompt {self.id} v{self.version}: " + "; ".join(problems))

    def render(self, **inputs: Any) -> RenderedPrompt:
        self.check_inputs(inputs)
        messages = []
        for role, template in self.parts:
            try:
                content = template.render(**inputs).strip()
            except jinja2.UndefinedError as exc:
                raise PromptError(f"prompt {self.id} v{self.version}: {exc}") from exc
            messages.append({"role": role, "content": content})
        return RenderedPrompt(id=self.id, version=self.version, messages=messages)


def _parse(path: Path) -> PromptTemplate:
    try:
        post = frontmatter.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PromptError(f"cannot read prompt {path.name}: {exc}") from exc
    meta = post.metadata
    for key in ("id", "version", "description", "inputs"):
        if key not in meta:
            raise PromptError(f"prompt {path.name}: front matter lacks {key!r}")
    inputs = meta["inputs"]
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise PromptError(f"prompt {path.name}: 'inputs' must be a list of names")
    body = post.content
    markers = list(_MARKER.finditer(body))
    if not markers or body[: markers[0].start()].strip():
        raise PromptError(f"prompt {path.name}: body must start with a '=== role ===' line")
    parts = []
    for i, m in enumerate(markers):
        end = markers[i + 1].start() if i + 1 < len(markers) else len(body)
        source = body[m.end() : end].strip("\n")
        try:
            template = _ENV.from_string(source)
        except jinja2.TemplateSyntaxError as exc:
            raise PromptError(f"prompt {path.name}: line {exc.lineno}: {exc.message}") from exc
        parts.append((m.group(1), template))
    return PromptTemplate(
        id=str(meta["id"]),
        version=str(meta["version"]),
        description=str(meta["description"]),
        inputs=tuple(inputs),
        path=path,
        parts=tuple(parts),
    )


@lru_cache(maxsize=32)
def _load(path: Path) -> PromptTemplate:
    return _parse(path)


def load_prompt(prompt_id: str, *, directory: Path | None = None) -> PromptTemplate:
    """The template whose file is ``<directory>/<prompt_id>.j2`` (id checked against it)."""
    if not re.fullmatch(r"[a-z0-9_.-]+", prompt_id):
        raise PromptError(f"bad prompt id {prompt_id!r}")
    path = (directory or TEMPLATES_DIR) / f"{prompt_id}{SUFFIX}"
    if not path.is_file():
        raise PromptError(f"no prompt template {prompt_id!r} in {path.parent}")
    template = _load(path)
    if template.id != prompt_id:
        raise PromptError(f"prompt {path.name} declares id {template.id!r}")
    return template


def list_prompts(directory: Path | None = None) -> list[PromptTemplate]:
    base = directory or TEMPLATES_DIR
    return [load_prompt(p.name[: -len(SUFFIX)], directory=base) for p in sorted(base.glob("*.j2"))]
