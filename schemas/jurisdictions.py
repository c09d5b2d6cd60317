"""One jurisdiction vocabulary for drafting, the regulation catalogue and the evals.

Canonical names are ``JURISDICTIONS``; free text ("EU / EEA (GDPR)", "California residents",
"United States") is mapped to them by ``normalise``. Drafting compares flags as canonical sets
(never by substring: "Australia" contains "us"), the catalogue's ``jurisdictions`` must be
canonical names, and the evals score flags after the same normalisation.
"""

from __future__ import annotations

import re

JURISDICTIONS: tuple[str, ...] = (
    "EU/EEA",
    "UK",
    "California",
    "US",
    "Switzerland",
    "Canada",
    "Brazil",
    "China",
    "Singapore",
    "Japan",
    "Australia",
    "Regulated sectors",
)

ALIASES: dict[str, tuple[str, ...]] = {
    "EU/EEA": (
        r"\beu\b",
        r"\beea\b",
        r"european union",
        r"european economic area",
        r"\beurope",
        r"\bgdpr\b(?!.*\buk\b)",
    ),
    "UK": (r"\buk\b", r"united kingdom", r"great britain", r"\bbritain", r"\bengland"),
    "California": (r"california", r"\bccpa\b", r"\bcpra\b"),
    "US": (
        r"\bus\b",
        r"\bu\.s\.",
        r"\busa\b",
        r"united states",
        r"\bcoppa\b",
        r"\bfederal\b",
    ),
    "Switzerland": (r"switzerland", r"\bswiss\b"),
    "Canada": (r"canada", r"\bpipeda\b", r"quebec"),
    "Brazil": (r"brazil", r"\blgpd\b"),
    "China": (r"\bchina\b", r"\bprc\b", r"\bpipl\b"),
    "Singapore": (r"singapore",),
    "Japan": (r"japan",),
    "Australia": (r"australia",),
    "Regulated sectors": (r"regulated", r"\bhipaa\b", r"health", r"financ", r"sector"),
}
_COMPILED = {name: [re.compile(p, re.IGNORECASE) for p in pats] for name, pats in ALIASES.items()}


def normalise(flag: str) -> set[str]:
    """Every canonical jurisdiction a free-text flag names (empty when none is recognised)."""
    return {name for name, pats in _COMPILED.items() if any(p.search(flag) for p in pats)}


def normalise_all(flags: list[str]) -> set[str]:
    out: set[str] = set()
    for flag in flags:
        out |= normalise(flag)
    return out


def canonical(name: str) -> str:
    """``name`` if it is canonical, else the one canonical name it stands for; raises
    ``ValueError`` when it names none or several (catalogue and gold must be unambiguous)."""
    if name in JURISDICTIONS:
        return name
    found = normalise(name)
    if len(found) != 1:
        raise ValueError(f"unknown jurisdiction {name!r}; use one of {list(JURISDICTIONS)}")
    return found.pop()
