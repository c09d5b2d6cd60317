"""CHECK constraints: drafts.status, changes.kind and subscribers.min_exposure hold only the
values of their enums (clausewatch.schemas.vocabulary)

Rows written by clausewatch already hold only these values; a value differing only in case
or surrounding blanks is normalised first. Any other value stops the upgrade with the rows
to fix (nothing is guessed). The values are spelled out here, not imported: a migration
keeps meaning what it meant when it was written.

On SQLite a constraint is added by rebuilding the table (batch mode); ``storage.db.migrate``
turns foreign-key enforcement off around the upgrade for this and checks the keys after.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 11:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, allowed values, column may be NULL)
VOCABULARIES = (
    ('drafts', 'status',
     ('pending', 'flagged', 'approved', 'rejected', 'redraft_requested', 'superseded'), False),
    ('changes', 'kind', ('added', 'removed', 'modified', 'moved'), False),
    ('subscribers', 'min_exposure', ('Low', 'Medium', 'High'), True),
)


def _condition(column: str, values: Sequence[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _normalise(table: str, column: str, values: Sequence[str], nullable: bool) -> None:
    bind = op.get_bind()
    col: sa.ColumnClause[str] = sa.column(column)
    tbl = sa.table(table, col)
    found = [value for (value,) in bind.execute(sa.select(col).select_from(tbl).distinct())]
    unknown: list[str] = []
    by_folded = {v.casefold(): v for v in values}
    for value in found:
        if value is None or value in values:
            continue
        canonical = by_folded.get(str(value).strip().casefold())
        if canonical is None:
            unknown.append(str(value))
            continue
        bind.execute(sa.update(tbl).where(col == value).values({column: canonical}))
    if unknown:
        raise RuntimeError(
            f"{table}.{column} holds values clausewatch never writes: "
            f"{', '.join(repr(v) for v in sorted(unknown))}; allowed: {', '.join(values)}. "
            "Correct these rows, then run the upgrade again."
        )
    if not nullable:
        nulls = bind.execute(
            sa.select(sa.func.count()).select_from(tbl).where(col.is_(None))
        ).scalar()
        if nulls:
            raise RuntimeError(f"{table}.{column} is NULL in {nulls} rows")


def upgrade() -> None:
    for table, column, values, nullable in VOCABULARIES:
        _normalise(table, column, values, nullable)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint(
                op.f(f'ck_{table}_{column}'), _condition(column, values)
            )


def downgrade() -> None:
    for table, column, _values, _nullable in reversed(VOCABULARIES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_{column}'), type_='check')
