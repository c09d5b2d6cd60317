"""The public JSON dataset and its versioned JSON Schema (generated from the pydantic models)."""

from __future__ import annotations

import json
from typing import Any

from clausewatch.publication.catalog import DATASET_SCHEMA_VERSION, Catalog, Dataset
from clausewatch.publication.names import clean_tree

DATASET_PATH = "data/dataset.json"
SCHEMA_PATH = f"data/schema/dataset-{DATASET_SCHEMA_VERSION}.json"


def build_dataset(catalog: Catalog, site_url: str) -> Dataset:
    analyses = sorted(catalog.analyses, key=lambda a: a.draft_id)
    updated = max((a.approved_at for a in analyses), default=None)
    return Dataset(
        site_url=site_url,
        updated=updated,
        platforms=catalog.platforms(),
        documents=catalog.documents,
        analyses=analyses,
    )


def dataset_schema(site_url: str) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of :class:`publication.catalog.Dataset`, with its version."""
    schema = Dataset.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": site_url.rstrip("/") + "/" + SCHEMA_PATH,
        "version": DATASET_SCHEMA_VERSION,
        **schema,
    }


def _dumps(value: Any) -> bytes:
    """Sorted, indented JSON without control or bidi-control characters; ``<``, ``>`` and ``&``
    as escapes so that policy text can never be read as markup even if the file is served with
    the wrong content type."""
    text = json.dumps(clean_tree(value), ensure_ascii=False, indent=2, sort_keys=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (text + "\n").encode("utf-8")


def dataset_bytes(catalog: Catalog, site_url: str) -> bytes:
    return _dumps(build_dataset(catalog, site_url).model_dump(mode="json"))


def schema_bytes(site_url: str) -> bytes:
    return _dumps(dataset_schema(site_url))
