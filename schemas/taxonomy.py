"""The clause taxonomy (PRODUCT.md) as slugs with a one-line description each."""

from __future__ import annotations

from typing import Literal, get_args

Category = Literal[
    "data-collection",
    "training-use",
    "data-retention",
    "data-sharing",
    "enterprise-data-terms",
    "subprocessors",
    "international-transfers",
    "user-choice",
    "user-access-deletion",
    "children",
    "sensitive-data",
    "location-data",
    "security-breach",
    "automated-decisions",
    "content-ownership",
    "content-removal",
    "acceptable-use",
    "unilateral-change",
    "termination",
    "limitation-of-liability",
    "indemnification",
    "arbitration",
    "governing-law",
    "jurisdiction",
    "contract-by-using",
]

CATEGORIES: tuple[str, ...] = get_args(Category)

DESCRIPTIONS: dict[str, str] = {
    "data-collection": "what is collected and how",
    "training-use": "use of user data or content to train or improve models",
    "data-retention": "how long data is kept",
    "data-sharing": "sharing with or sale to third parties, affiliates, advertisers",
    "enterprise-data-terms": "API / business customers governed by a separate agreement or DPA",
    "subprocessors": "sub-processors and service providers",
    "international-transfers": "transfers outside the user's jurisdiction",
    "user-choice": "consent, opt-out, settings",
    "user-access-deletion": "access, correction, deletion, portability",
    "children": "minors and age limits",
    "sensitive-data": "special-category, biometric, health data",
    "location-data": "precise or approximate location",
    "security-breach": "security measures, breach notification",
    "automated-decisions": "profiling and automated decision-making",
    "content-ownership": "ownership of inputs/outputs, licences granted",
    "content-removal": "the provider may remove content",
    "acceptable-use": "prohibited uses",
    "unilateral-change": "the provider may change the terms",
    "termination": "the provider may suspend or terminate",
    "limitation-of-liability": "caps and exclusions of liability",
    "indemnification": "the user indemnifies the provider",
    "arbitration": "arbitration and class-action waivers",
    "governing-law": "choice of law",
    "jurisdiction": "forum / courts",
    "contract-by-using": "using the service means accepting the terms",
}

# CLAUDETTE / UNFAIR-ToS tag -> our slug (tags: a, ch, cr, j, law, ltd, ter, use, pinc)
CLAUDETTE_TO_SLUG: dict[str, str] = {
    "a": "arbitration",
    "ch": "unilateral-change",
    "cr": "content-removal",
    "j": "jurisdiction",
    "law": "governing-law",
    "ltd": "limitation-of-liability",
    "ter": "termination",
    "use": "contract-by-using",
}

# the 8 UNFAIR-ToS labels in LexGLUE order
UNFAIR_TOS_SLUGS: tuple[str, ...] = (
    "limitation-of-liability",
    "unilateral-change",  # LexGLUE: "Unilateral change"
    "content-removal",
    "contract-by-using",
    "governing-law",  # "Choice of law"
    "jurisdiction",
    "termination",  # "Unilateral termination"
    "arbitration",
)

assert set(DESCRIPTIONS) == set(CATEGORIES)
