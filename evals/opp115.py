"""OPP-115 segments with their data-practice categories, mapped to our privacy slugs.

Mapping (category -> slug): First Party Collection/Use -> data-collection; Third Party
Sharing/Collection -> data-sharing; User Choice/Control and Do Not Track -> user-choice;
User Access, Edit and Deletion -> user-access-deletion; Data Retention -> data-retention;
Data Security -> security-breach; Policy Change -> unilateral-change; International and
Specific Audiences -> children only when its "Audience Type" is Children (Californians,
Europeans and "Other" audiences have no slug of their own); Other -> no slug.
A segment's gold labels are the union of its consolidated annotations (threshold 0.75).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from html import unescape
from pathlib import Path

from clausewatch.core.errors import InputError

OPP_TO_SLUG: dict[str, str] = {
    "First Party Collection/Use": "data-collection",
    "Third Party Sharing/Collection": "data-sharing",
    "User Choice/Control": "user-choice",
    "Do Not Track": "user-choice",
    "User Access, Edit and Deletion": "user-access-deletion",
    "Data Retention": "data-retention",
    "Data Security": "security-breach",
    "Policy Change": "unilateral-change",
}
AUDIENCES = "International and Specific Audiences"
OPP_SLUGS: tuple[str, ...] = (
    "data-collection",
    "data-sharing",
    "user-choice",
    "user-access-deletion",
    "data-retention",
    "security-breach",
    "unilateral-change",
    "children",
)
_TAGS = re.compile(r"<[^>]+>")


@dataclass
class Segment:
    policy: str
    index: int
    text: str
    labels: set[str]


def _clean(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(_TAGS.sub(" ", html))).strip()


def slugs_of(category: str, attributes: str) -> set[str]:
    if category in OPP_TO_SLUG:
        return {OPP_TO_SLUG[category]}
    if category == AUDIENCES:
        try:
            attrs = json.loads(attributes)
        except json.JSONDecodeError:
            return set()
        audience = attrs.get("Audience Type", {}) if isinstance(attrs, dict) else {}
        if isinstance(audience, dict) and audience.get("value") == "Children":
            return {"children"}
    return set()


def is_opp115(root: Path) -> bool:
    return (root / "sanitized_policies").is_dir() and (root / "consolidation").is_dir()


def load_segments(root: Path) -> list[Segment]:
    """Every annotated segment of every policy that has a consolidation CSV."""
    policies = root / "sanitized_policies"
    csv_dirs = sorted((root / "consolidation").iterdir())
    if not policies.is_dir() or not csv_dirs:
        raise InputError(f"{root}: not an OPP-115 folder (sanitized_policies/, consolidation/)")
    csv_dir = next((d for d in csv_dirs if "0.75" in d.name), csv_dirs[0])
    out: list[Segment] = []
    for csv_path in sorted(csv_dir.glob("*.csv")):
        html_path = policies / (csv_path.stem + ".html")
        if not html_path.is_file():
            raise InputError(f"{html_path}: missing policy for {csv_path.name}")
        texts = [_clean(s) for s in html_path.read_text(encoding="utf-8").split("|||")]
        labels: dict[int, set[str]] = {}
        with csv_path.open(encoding="utf-8", newline="") as fh:
            for lineno, row in enumerate(csv.reader(fh), start=1):
                if len(row) < 7:
                    raise InputError(f"{csv_path}:{lineno}: expected at least 7 columns")
                try:
                    seg = int(row[4])
                except ValueError as exc:
                    raise InputError(f"{csv_path}:{lineno}: bad segment id {row[4]!r}") from exc
                labels.setdefault(seg, set()).update(slugs_of(row[5], row[6]))
        for seg, labs in sorted(labels.items()):
            if 0 <= seg < len(texts) and texts[seg]:
                out.append(Segment(csv_path.stem, seg, texts[seg], labs))
    if not out:
        raise InputError(f"{root}: no annotated segments")
    return out
