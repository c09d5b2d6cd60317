"""The analysis edit form: ProvisionAnalysis <-> flat HTML form fields, and error mapping.

Form names: scalar fields by name (``title``), nested ones with dashes (``exposure-level``,
``change-kind``), list rows as ``<list>-<index>-<key>`` (``comparisons-0-excerpt``), lists of
strings as one textarea with one item per line. Blank rows are dropped before validation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clausewatch.review.service import EDITABLE_FIELDS

TEXT_FIELDS: tuple[str, ...] = (
    "summary",
    "key_point",
    "interpretive_note",
    "what_this_means",
    "excerpt",
    "contract_vendor_implications",
)
ROW_FIELDS: dict[str, tuple[str, ...]] = {
    "comparisons": ("platform", "clause_id", "excerpt", "note"),
    "regulatory_landscape": ("provision_id", "title", "relevance"),
    "jurisdiction_flags": ("jurisdiction", "note"),
}
ROW_LIMITS = {"comparisons": 5, "regulatory_landscape": 6, "jurisdiction_flags": 6}
LINE_FIELDS: tuple[str, ...] = ("compliance_considerations",)
CHANGE_KEYS: tuple[str, ...] = ("kind", "before", "after", "summary")
EXPOSURE_KEYS: tuple[str, ...] = ("level", "rationale")
MAX_FIELD = 20_000
_ROW_NAME = re.compile(r"^([a-z_]+)-(\d{1,2})-([a-z_]+)$")


@dataclass
class FormState:
    """What the form shows: values by form name, chosen categories, list rows."""

    values: dict[str, str] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def value(self, name: str) -> str:
        return self.values.get(name, "")


def _s(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _with_blank_row(name: str, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    if len(rows) < ROW_LIMITS[name]:
        rows = [*rows, dict.fromkeys(ROW_FIELDS[name], "")]
    return rows


def from_analysis(analysis: Mapping[str, Any]) -> FormState:
    state = FormState()
    state.values["title"] = _s(analysis.get("title"))
    for name in TEXT_FIELDS:
        state.values[name] = _s(analysis.get(name))
    exposure = analysis.get("exposure")
    exposure = exposure if isinstance(exposure, Mapping) else {}
    for key in EXPOSURE_KEYS:
        state.values[f"exposure-{key}"] = _s(exposure.get(key))
    change = analysis.get("change")
    change = change if isinstance(change, Mapping) else {}
    for key in CHANGE_KEYS:
        state.values[f"change-{key}"] = _s(change.get(key))
    for name in LINE_FIELDS:
        items = analysis.get(name)
        items = items if isinstance(items, list) else []
        state.values[name] = "\n".join(_s(i).replace("\n", " ") for i in items)
    cats = analysis.get("categories")
    state.categories = [c for c in cats if isinstance(c, str)] if isinstance(cats, list) else []
    for name, keys in ROW_FIELDS.items():
        raw = analysis.get(name)
        rows = [
            {k: _s(item.get(k)) for k in keys}
            for item in (raw if isinstance(raw, list) else [])
            if isinstance(item, Mapping)
        ]
        state.rows[name] = _with_blank_row(name, rows)
    return state


def _form_str(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def from_form(form: Any) -> FormState:
    """FormState from submitted form data (a starlette FormData or a plain mapping)."""
    state = FormState()
    names = ["title", *TEXT_FIELDS, *LINE_FIELDS]
    names += [f"exposure-{k}" for k in EXPOSURE_KEYS] + [f"change-{k}" for k in CHANGE_KEYS]
    for name in names:
        state.values[name] = _form_str(form, name)
    getlist = getattr(form, "getlist", None)
    cats = getlist("categories") if getlist else form.get("categories", [])
    if isinstance(cats, str):
        cats = [cats]
    state.categories = [c[:100] for c in cats if isinstance(c, str)][:50]
    found: dict[str, dict[int, dict[str, str]]] = {name: {} for name in ROW_FIELDS}
    for key in list(form.keys()):
        m = _ROW_NAME.match(key)
        if not m or m.group(1) not in ROW_FIELDS or m.group(3) not in ROW_FIELDS[m.group(1)]:
            continue
        row = found[m.group(1)].setdefault(int(m.group(2)), {})
        row[m.group(3)] = _form_str(form, key)
    for name, keys in ROW_FIELDS.items():
        rows = [{k: found[name][i].get(k, "") for k in keys} for i in sorted(found[name])]
        state.rows[name] = rows or [dict.fromkeys(keys, "")]
    return state


@dataclass
class Parsed:
    changes: dict[str, Any]
    row_index: dict[str, list[int]]  # kept row -> its index in the form


def _opt(text: str) -> str | None:
    return text if text.strip() else None


def to_changes(state: FormState) -> Parsed:
    """The analysis fields the form edits (everything but provenance), ready to validate."""
    v = state.values
    changes: dict[str, Any] = {"title": v.get("title", "")}
    for name in TEXT_FIELDS:
        changes[name] = v.get(name, "")
    changes["categories"] = list(state.categories)
    changes["exposure"] = {
        "level": v.get("exposure-level", ""),
        "rationale": v.get("exposure-rationale", ""),
    }
    for name in LINE_FIELDS:
        changes[name] = [line.strip() for line in v.get(name, "").splitlines() if line.strip()]
    if v.get("change-kind", "").strip():
        changes["change"] = {
            "kind": v.get("change-kind", "").strip(),
            "before": _opt(v.get("change-before", "")),
            "after": _opt(v.get("change-after", "")),
            "summary": v.get("change-summary", ""),
        }
    else:
        changes["change"] = None
    row_index: dict[str, list[int]] = {}
    for name in ROW_FIELDS:
        kept = [
            (i, r)
            for i, r in enumerate(state.rows.get(name, []))
            if any(x.strip() for x in r.values())
        ]
        changes[name] = [dict(r) for _, r in kept]
        row_index[name] = [i for i, _ in kept]
    # a field the schema no longer has is not sent (its stored value stays as it is)
    changes = {k: v for k, v in changes.items() if k in EDITABLE_FIELDS}
    return Parsed(changes, row_index)


def form_fields() -> set[str]:
    """The analysis fields this form edits (a test checks it covers the schema)."""
    return {"title", "categories", "exposure", "change", *TEXT_FIELDS, *LINE_FIELDS, *ROW_FIELDS}


def form_errors(errors: Mapping[str, list[str]], parsed: Parsed) -> dict[str, list[str]]:
    """Service error paths (``comparisons.1.excerpt``) -> form names (``comparisons-3-excerpt``)."""
    out: dict[str, list[str]] = {}
    for path, messages in errors.items():
        parts = path.split(".")
        head = parts[0]
        if head in ROW_FIELDS and len(parts) >= 2 and parts[1].isdigit():
            kept = parsed.row_index.get(head, [])
            pos = int(parts[1])
            index = kept[pos] if pos < len(kept) else pos
            name = "-".join([head, str(index), *parts[2:3]]) if len(parts) > 2 else head
        elif head in ("categories", *LINE_FIELDS):
            name = head
        elif head in ("exposure", "change") and len(parts) > 1:
            name = f"{head}-{parts[1]}"
        else:
            name = head
        out.setdefault(name, []).extend(messages)
    return out
