"""Load the regulation catalogue shipped in ``clausewatch/regulations/catalogue/*.yaml``.

Each file covers one instrument::

    regulation: gdpr
    name: GDPR
    jurisdictions: [EU/EEA]
    provisions:
      - id: "gdpr:28"
        title: Processor
        topics: [subprocessors, enterprise-data-terms]
        obligations: >-
          A few sentences in our own words.

Ids have the form ``<regulation>:<article or section>`` (PRODUCT.md). The titles follow the
official headings; the obligations are our summaries, not the legal text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from clausewatch.core.errors import ConfigError
from clausewatch.schemas.retrieval import RegulationProvision
from clausewatch.schemas.sources import DOC_TYPES
from clausewatch.schemas.taxonomy import CATEGORIES, DESCRIPTIONS

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"
ID_RE = re.compile(r"^[a-z][a-z0-9-]*:[0-9][0-9a-z.()-]*$")

REGULATION_NAMES: dict[str, str] = {
    "gdpr": "GDPR",
    "uk-gdpr": "UK GDPR",
    "ccpa": "CCPA/CPRA",
    "ccpa-regs": "CCPA Regulations (11 CCR)",
    "eu-ai-act": "EU AI Act",
    "eprivacy": "ePrivacy Directive",
    "coppa": "COPPA Rule (16 CFR 312)",
}


def _load_file(path: Path) -> list[RegulationProvision]:
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path.name}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("provisions"), list):
        raise ConfigError(f"{path.name}: expected a mapping with a 'provisions' list")
    regulation = str(data.get("regulation", ""))
    if regulation not in REGULATION_NAMES:
        raise ConfigError(f"{path.name}: unknown regulation {regulation!r}")
    jurisdictions = [str(j) for j in data.get("jurisdictions", [])]
    out: list[RegulationProvision] = []
    for raw in data["provisions"]:
        if not isinstance(raw, dict):
            raise ConfigError(f"{path.name}: every provision must be a mapping")
        entry = {"regulation": regulation, "jurisdictions": jurisdictions, **raw}
        try:
            prov = RegulationProvision.model_validate(entry)
        except ValidationError as exc:
            raise ConfigError(f"{path.name}: {raw.get('id')!r}: {exc}") from exc
        if not ID_RE.match(prov.id) or not prov.id.startswith(regulation + ":"):
            raise ConfigError(f"{path.name}: bad provision id {prov.id!r}")
        unknown = [
            t
            for t in [*prov.topics, *prov.engaged_by]
            if t not in CATEGORIES and t.removeprefix("doctype:") not in DOC_TYPES
        ]
        if unknown:
            raise ConfigError(f"{path.name}: {prov.id}: unknown topics {unknown}")
        if not prov.title.strip() or len(prov.obligations.split()) < 8:
            raise ConfigError(f"{path.name}: {prov.id}: title and obligations are required")
        out.append(prov)
    return out


@lru_cache(maxsize=4)
def _load(directory: Path) -> dict[str, RegulationProvision]:
    catalogue: dict[str, RegulationProvision] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise ConfigError(f"no regulation catalogue files in {directory}")
    for path in files:
        for prov in _load_file(path):
            if prov.id in catalogue:
                raise ConfigError(f"{path.name}: duplicate provision id {prov.id}")
            catalogue[prov.id] = prov
    return catalogue


def load_catalogue(directory: Path | None = None) -> dict[str, RegulationProvision]:
    """Every provision of the shipped catalogue, by id (cached; do not mutate)."""
    return _load((directory or CATALOGUE_DIR).resolve())


def exists(provision_id: str) -> bool:
    """Whether ``provision_id`` (e.g. ``gdpr:28``) is in the shipped catalogue."""
    return provision_id in load_catalogue()


def regulation_name(regulation: str) -> str:
    return REGULATION_NAMES.get(regulation, regulation)


def citation(provision: RegulationProvision) -> str:
    """A human label: ``GDPR Art. 28``, ``CCPA/CPRA § 1798.105``, ``COPPA Rule § 312.5``."""
    number = provision.id.split(":", 1)[1]
    if provision.regulation in {"ccpa", "ccpa-regs", "coppa"}:
        prefix = {"ccpa": "CCPA/CPRA", "ccpa-regs": "11 CCR", "coppa": "16 CFR"}
        return f"{prefix[provision.regulation]} § {number}"
    return f"{regulation_name(provision.regulation)} Art. {number}"


def search_text(provision: RegulationProvision) -> str:
    """The text we embed and keyword-index for a catalogue entry."""
    topics = "; ".join(f"{t.replace('-', ' ')} ({DESCRIPTIONS[t]})" for t in provision.topics)
    text = f"{citation(provision)} — {provision.title}. {provision.obligations}"
    return f"{text} Topics: {topics}." if topics else text
