"""Draft statuses, change kinds and exposure levels: one enum each, enforced by the database.

Migration 0011 adds the CHECK constraints to an existing workspace (rows referring to the
rebuilt tables included), normalises a value differing only in case, and stops with the
offending values named rather than guess.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from publication_support import seed
from sqlalchemy import CheckConstraint, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from clausewatch.publication.subscriptions import add_subscriber
from clausewatch.schemas.vocabulary import ChangeKind, DraftStatus, ExposureLevel, exposure_rank
from clausewatch.storage.db import MIGRATIONS_DIR, downgrade, get_engine, migrate, session_scope
from clausewatch.storage.models import Base, Change, Delivery, Draft, DraftEvent, Subscriber

CONSTRAINED = {("drafts", "status"), ("changes", "kind"), ("subscribers", "min_exposure")}


def _migration_0011() -> ModuleType:
    path = next((MIGRATIONS_DIR / "versions").glob("0011_*.py"))
    spec = importlib.util.spec_from_file_location("migration_0011", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _seed_workspace() -> dict[str, Any]:
    """The sample rows of the publication tests, plus an event, a subscriber, a delivery."""
    with session_scope() as session:
        seeded = seed(session)
        session.add(
            DraftEvent(
                draft_id=seeded.nimbus.id,
                actor="alice",
                action="approve",
                field="status",
                before="pending",
                after="approved",
            )
        )
        sub = add_subscriber(
            session, channel="email", target="alice@example.org", min_exposure="High"
        )
        session.add(Delivery(subscriber_id=sub.id, kind="alert", item_key="draft:1"))
    return _snapshot()


def _snapshot() -> dict[str, Any]:
    with get_engine().connect() as conn:
        return {
            table: conn.execute(text(f"SELECT * FROM {table} ORDER BY 1")).all()
            for table in ("drafts", "changes", "draft_events", "subscribers", "deliveries")
        }


def _check_names() -> set[tuple[str, str | None]]:
    inspector = inspect(get_engine())
    return {
        (table, ck["name"])
        for table, _ in CONSTRAINED
        for ck in inspector.get_check_constraints(table)
    }


def test_each_vocabulary_is_spelled_once() -> None:
    assert [s.value for s in DraftStatus] == [
        "pending",
        "flagged",
        "approved",
        "rejected",
        "redraft_requested",
        "superseded",
    ]
    assert [k.value for k in ChangeKind] == ["added", "removed", "modified", "moved"]
    assert [level.rank for level in ExposureLevel] == [1, 2, 3]
    assert exposure_rank("High") > exposure_rank("Medium") > exposure_rank("Low") > 0
    assert exposure_rank("Critical") == exposure_rank(None) == 0


def test_model_constraints_say_what_the_migration_adds() -> None:
    """The models (fresh metadata) and migration 0011 (existing workspaces) agree."""
    module = _migration_0011()
    assert {(t, c) for t, c, _, _ in module.VOCABULARIES} == CONSTRAINED
    for table, column, values, _nullable in module.VOCABULARIES:
        conditions = {
            str(c.sqltext)
            for c in Base.metadata.tables[table].constraints
            if isinstance(c, CheckConstraint)
        }
        assert module._condition(column, values) in conditions, (table, column)


def test_an_existing_workspace_upgrades_with_its_rows(db_workspace: Path) -> None:
    before = _seed_workspace()
    downgrade("0010")
    assert _check_names() == set()
    with get_engine().begin() as conn:  # as an older writer might have spelled it
        conn.execute(text("UPDATE subscribers SET min_exposure = 'high'"))

    migrate()

    assert _check_names() == {(t, f"ck_{t}_{c}") for t, c in CONSTRAINED}
    assert _snapshot() == before  # every row kept ('high' back to 'High')
    with session_scope() as session:
        assert session.scalar(select(Subscriber.min_exposure)) is ExposureLevel.HIGH
        statuses = set(session.scalars(select(Draft.status)))
        assert statuses == set(DraftStatus)  # the seed has a draft of every status
        assert all(isinstance(k, ChangeKind) for k in session.scalars(select(Change.kind)))


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("drafts", "status", "published"),
        ("changes", "kind", "renamed"),
        ("subscribers", "min_exposure", "Severe"),
    ],
)
def test_the_database_refuses_other_values(
    db_workspace: Path, table: str, column: str, value: str
) -> None:
    _seed_workspace()
    with pytest.raises(IntegrityError), get_engine().begin() as conn:
        conn.execute(text(f"UPDATE {table} SET {column} = :v"), {"v": value})


def test_the_models_refuse_other_values_before_the_database(db_workspace: Path) -> None:
    _seed_workspace()
    with pytest.raises(StatementError, match="published"), session_scope() as session:
        draft = session.scalars(select(Draft)).first()
        assert draft is not None
        draft.status = "published"  # type: ignore[assignment]
        session.flush()


def test_an_unknown_value_stops_the_upgrade_naming_it(db_workspace: Path) -> None:
    _seed_workspace()
    downgrade("0010")
    with get_engine().begin() as conn:
        conn.execute(text("UPDATE drafts SET status = 'published' WHERE id = 1"))
    with pytest.raises(RuntimeError, match=r"drafts\.status .*'published'"):
        migrate()
    with get_engine().connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0010"
        assert conn.execute(text("SELECT count(*) FROM drafts")).scalar() == 8
    assert _check_names() == set()


def test_counts_by_status_use_the_enum(db_workspace: Path) -> None:
    from clausewatch.review.service import status_counts

    _seed_workspace()
    with session_scope() as session:
        counts = status_counts(session)
        total = session.scalar(select(func.count(Draft.id)))
    assert counts["all"] == total == 8
    assert counts["open"] == counts["pending"] + counts["flagged"] == 2
