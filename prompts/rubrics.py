"""Load the rubrics in ``prompts/rubrics/`` and the playbooks in ``prompts/playbooks/`` (YAML
with an id and version), validated on load."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from clausewatch.core.errors import ConfigError
from clausewatch.schemas.playbooks import Playbooks
from clausewatch.schemas.rubrics import ExposureRubric, JurisdictionRubric

RUBRICS_DIR = Path(__file__).resolve().parent / "rubrics"
PLAYBOOKS_DIR = Path(__file__).resolve().parent / "playbooks"

M = TypeVar("M", bound=BaseModel)


def load_rubric(name: str, model: type[M], folder: Path = RUBRICS_DIR) -> M:
    path = folder / f"{name}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read rubric: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


@lru_cache(maxsize=1)
def exposure_rubric() -> ExposureRubric:
    return load_rubric("exposure", ExposureRubric)


@lru_cache(maxsize=1)
def jurisdiction_rubric() -> JurisdictionRubric:
    return load_rubric("jurisdictions", JurisdictionRubric)


@lru_cache(maxsize=1)
def playbooks() -> Playbooks:
    return load_rubric("playbooks", Playbooks, PLAYBOOKS_DIR)
