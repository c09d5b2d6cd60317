"""Labels decided by code: the regulation mapper, the exposure rubric, derived jurisdictions,
the category rule, and the shared jurisdiction vocabulary."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from clausewatch.core.errors import ConfigError
from clausewatch.drafting.labels import (
    combine_categories,
    decide_exposure,
    decide_labels,
    derive_jurisdictions,
    named_in_text,
)
from clausewatch.prompts.rubrics import exposure_rubric, jurisdiction_rubric, load_rubric
from clausewatch.regulations.catalogue import load_catalogue
from clausewatch.regulations.mapper import MapperWeights, map_regulations, shortlist_candidates
from clausewatch.schemas.jurisdictions import JURISDICTIONS, canonical, normalise_all
from clausewatch.schemas.retrieval import RegulationCandidate, RegulationProvision
from clausewatch.schemas.rubrics import ExposureRubric


def _cands(*ids: str) -> list[RegulationCandidate]:
    return [RegulationCandidate(id=i, title=i, score=1.0 - n / 10) for n, i in enumerate(ids)]


def test_categories_engage_provisions_the_search_missed() -> None:
    cat = load_catalogue()
    rmap = map_regulations(_cands("gdpr:13", "gdpr:5"), ["children"], cat)
    assert rmap.proposed == ["coppa:312.5", "gdpr:8"]
    # retrieval alone (no engaging category) is not enough to be cited
    assert "gdpr:13" not in rmap.proposed
    assert "gdpr:13" in [r.provision_id for r in rmap.shortlist]
    assert "engaged by children" in rmap.reason("gdpr:8")


def test_retrieval_orders_engaged_provisions() -> None:
    cat = load_catalogue()
    a = map_regulations(_cands("gdpr:33", "gdpr:32"), ["security-breach"], cat)
    b = map_regulations(_cands("gdpr:32", "gdpr:33"), ["security-breach"], cat)
    assert a.proposed[:2] == ["gdpr:33", "gdpr:32"]
    assert b.proposed[:2] == ["gdpr:32", "gdpr:33"]


def test_terms_clauses_engage_no_privacy_provision() -> None:
    cat = load_catalogue()
    rmap = map_regulations(_cands("gdpr:79", "ccpa:1798.192"), ["arbitration"], cat)
    assert rmap.proposed == []


def test_a_dpa_document_engages_the_processor_rules() -> None:
    """The seed page names GDPR Art. 28 and the CCPA service-provider rules for a DPA clause."""
    cat = load_catalogue()
    rmap = map_regulations(_cands("gdpr:5"), [], cat, doc_type="dpa")
    assert set(rmap.proposed) >= {"gdpr:28", "ccpa-regs:7051"}
    assert "doctype:dpa" in rmap.reason("gdpr:28")
    assert map_regulations(_cands("gdpr:5"), [], cat, doc_type="privacy_policy").proposed == []


def test_editor_votes_move_provisions() -> None:
    cat = load_catalogue()
    base = map_regulations(_cands("gdpr:6", "gdpr:13"), ["training-use"], cat)
    assert "eu-ai-act:53" in base.proposed
    voted = map_regulations(
        _cands("gdpr:6", "gdpr:13"),
        ["training-use"],
        cat,
        editor_votes={"eu-ai-act:53": -6, "gdpr:21": 6},
        weights=MapperWeights(editors=1.0),
    )
    assert "eu-ai-act:53" not in voted.proposed
    assert "gdpr:21" in voted.proposed


def test_shortlist_candidates_carry_catalogue_text() -> None:
    cat = load_catalogue()
    rmap = map_regulations(_cands("gdpr:17"), ["user-access-deletion"], cat)
    cands = shortlist_candidates(rmap, cat)
    assert [c.id for c in cands] == [r.provision_id for r in rmap.shortlist]
    assert all(c.obligations for c in cands)


def test_categories_classifier_first_model_when_it_has_none() -> None:
    assert combine_categories(["training-use"], ["data-sharing"]) == ["training-use"]
    assert combine_categories([], ["data-sharing", "data-sharing"]) == ["data-sharing"]


@pytest.mark.parametrize(
    ("cats", "text", "level", "rule"),
    [
        (["arbitration"], "You waive any right to a class action.", "High", "class-action-waiver"),
        (["arbitration"], "Disputes go to the courts of Paris.", "Medium", "category:arbitration"),
        (
            ["unilateral-change"],
            "We may change these terms at any time without notice.",
            "High",
            "provider-discretion",
        ),
        (["unilateral-change"], "We will notify you 30 days before changes.", "Low", None),
        (
            ["training-use"],
            "We use your content to train and improve our models.",
            "High",
            "training-on-content-by-default",
        ),
        (
            ["training-use"],
            "We will not use your content to train our models unless you opt in.",
            "Low",
            "protective-commitment",
        ),
        # the provider's discretion is High; a user's own right "at any time" is not
        (
            ["termination"],
            "We may suspend your account at our sole discretion.",
            "High",
            "provider-discretion",
        ),
        (["termination"], "You may cancel your plan at any time.", "Medium", None),
        (
            ["termination"],
            "We may terminate at any time by giving you at least 30 days’ notice.",
            "Low",
            "protective-commitment",
        ),
        (
            ["training-use"],
            "We may use Customer Data for model training unless you opt out.",
            "High",
            "training-on-content-by-default",
        ),
        (
            ["content-ownership"],
            "You grant us a perpetual, worldwide, royalty-free, irrevocable licence to your data.",
            "High",
            "irrevocable-content-licence",
        ),
        (
            ["security-breach"],
            "No measures are a guarantee of security; use is at your own risk.",
            "Medium",
            "security-without-guarantee",
        ),
        (["data-sharing"], "We do not sell your personal information.", "Low", None),
        (["children"], "Not for children under 13.", "Low", "category:children"),
        ([], "Anything at all.", "Medium", "default"),
    ],
)
def test_exposure_rubric(cats: list[str], text: str, level: str, rule: str | None) -> None:
    decision = decide_exposure(cats, text)
    assert decision.level == level
    if rule:
        assert decision.rule == rule


def test_removed_protection_is_high() -> None:
    text = "You can opt out of sharing in your settings."
    assert decide_exposure(["user-choice"], text).level == "Low"
    assert decide_exposure(["user-choice"], text, "removed").level == "High"


def test_jurisdictions_named_in_text_ignore_the_pronoun_us() -> None:
    assert named_in_text("Contact us to delete your data.") == []
    assert named_in_text("Stored in the United States and the EEA.") == ["EU/EEA", "US"]
    assert named_in_text("governed by the laws of the State of California") == ["California"]


def test_derived_jurisdictions_come_from_provisions_and_text() -> None:
    cat = load_catalogue()
    assert derive_jurisdictions(["coppa:312.5", "gdpr:8"], cat, "No one under 13.") == [
        "US",
        "EU/EEA",
    ]
    assert derive_jurisdictions([], cat, "Laws of California apply.") == ["California"]


def test_one_vocabulary_catalogue_is_canonical() -> None:
    """COPPA said "United States" while the gold said "US": the catalogue must use the names."""
    for provision in load_catalogue().values():
        for place in provision.jurisdictions:
            assert place in JURISDICTIONS, (provision.id, place)
    assert canonical("United States") == "US"
    with pytest.raises(ValueError, match="canonical name"):
        RegulationProvision(
            id="x:1", regulation="x", title="t", obligations="o", jurisdictions=["United States"]
        )
    # "Australia" does not name the US (the old substring test said it did)
    assert normalise_all(["Australia"]) == {"Australia"}


def test_decide_labels_without_a_mapper_keeps_the_model_citations() -> None:
    cat = load_catalogue()
    d = decide_labels(
        hint=[],
        model_categories=["security-breach"],
        proposed=None,
        catalogue=cat,
        text="We secure your data.",
        change_kind=None,
        model_regulations=["gdpr:32", "nope:1"],
    )
    assert d.regulations == ["gdpr:32"] and d.regulation_source == "model"
    assert d.category_source == "model" and d.jurisdictions == ["EU/EEA"]


def test_rubrics_load_and_bad_ones_are_config_errors(tmp_path: Path) -> None:
    assert exposure_rubric().version and jurisdiction_rubric().version
    (tmp_path / "exposure.yaml").write_text(
        "id: x\nversion: '1'\ndefault: Medium\ncategories: {nope: High}\nrules: []\n"
    )
    with pytest.raises(ConfigError, match="unknown categories"):
        load_rubric("exposure", ExposureRubric, tmp_path)
    with pytest.raises(ValidationError, match="bad pattern"):
        ExposureRubric.model_validate(
            {
                "id": "x",
                "version": "1",
                "default": "Low",
                "categories": {},
                "rules": [{"id": "r", "level": "High", "rationale": "r" * 6, "text": ["("]}],
            }
        )


def test_playbooks_are_valid_and_rest_on_catalogue_provisions() -> None:
    from clausewatch.prompts.rubrics import playbooks
    from clausewatch.schemas.taxonomy import CATEGORIES

    books = playbooks()
    assert set(books.categories) == set(CATEGORIES)
    catalogue = load_catalogue()
    for slug, book in books.categories.items():
        assert book.review and book.actions and book.caveats, slug
        for point in [*book.review, *book.actions, *book.caveats]:
            for pid in point.provisions:
                assert pid in catalogue, (point.id, pid)
