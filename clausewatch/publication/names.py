"""Display names, URL slugs and topic phrases shared by pages, feeds and messages."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from clausewatch.schemas.taxonomy import CATEGORIES
from clausewatch.schemas.vocabulary import ExposureLevel, exposure_rank

_ACRONYMS = {"ai", "api", "aws", "dpa", "tos", "eu", "uk", "us", "llm", "ml", "xai"}

# How a topic page reads: "What 12 AI platforms say about <phrase>".
TOPIC_PHRASES: dict[str, str] = {
    "data-collection": "collecting your data",
    "training-use": "training on your data",
    "data-retention": "how long they keep your data",
    "data-sharing": "sharing your data with others",
    "enterprise-data-terms": "separate terms for business and API customers",
    "subprocessors": "sub-processors and service providers",
    "international-transfers": "moving your data across borders",
    "user-choice": "consent, opt-outs and settings",
    "user-access-deletion": "accessing and deleting your data",
    "children": "children and age limits",
    "sensitive-data": "sensitive and biometric data",
    "location-data": "your location",
    "security-breach": "security and breach notification",
    "automated-decisions": "profiling and automated decisions",
    "content-ownership": "who owns your inputs and outputs",
    "content-removal": "removing your content",
    "acceptable-use": "what you may not do",
    "unilateral-change": "changing their terms",
    "termination": "suspending or closing your account",
    "limitation-of-liability": "limiting their liability",
    "indemnification": "making you indemnify them",
    "arbitration": "arbitration and class-action waivers",
    "governing-law": "which law governs",
    "jurisdiction": "which courts hear disputes",
    "contract-by-using": "agreeing to terms by using the service",
}
assert set(TOPIC_PHRASES) == set(CATEGORIES)


# Control characters (invalid in HTML text and in XML) and the bidirectional controls that
# can make published text read differently from what it says ("Trojan Source": embeddings and
# overrides U+202A-U+202E, isolates U+2066-U+2069, marks U+200E/U+200F and U+061C).
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def clean_text(text: str) -> str:
    """Drop control and bidirectional-control characters from untrusted text.

    The one helper every writer of published text uses: pages and e-mails (the Jinja
    ``finalize`` hook), feeds, the dataset and webhook payloads (:func:`clean_tree`)."""
    return _CONTROL.sub("", text)


def clean_tree(value: Any) -> Any:
    """:func:`clean_text` applied to every string (keys included) of a JSON-like value."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_tree(k): clean_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_tree(v) for v in value]
    return value


def slugify(text: str, max_length: int = 80) -> str:
    """Lower-case ASCII words joined by hyphens; never empty."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or "item"


def display_name(slug: str) -> str:
    """``nimbus-ai`` -> ``Nimbus AI``, ``privacy_policy`` -> ``Privacy Policy``."""
    words = [w for w in re.split(r"[-_\s]+", slug) if w]
    if not words:
        return slug
    return " ".join(w.upper() if w.lower() in _ACRONYMS else w[:1].upper() + w[1:] for w in words)


def category_title(slug: str) -> str:
    return display_name(slug)


def topic_phrase(slug: str) -> str:
    return TOPIC_PHRASES.get(slug, display_name(slug).lower())


def human_date(value: datetime | None) -> str:
    """``3 March 2026``; empty for unknown dates."""
    if value is None:
        return ""
    return f"{value.day} {value.strftime('%B %Y')}"


def exposure_at_least(level: str, minimum: str | None) -> bool:
    if not minimum:
        return True
    return exposure_rank(level) >= ExposureLevel(minimum).rank
