"""versions: a text may recur (unique per date, not per text); clauses.kind

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 17:05:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_versions_document_id', type_='unique')
        batch_op.create_unique_constraint(
            'uq_versions_document_date', ['document_id', 'version_date']
        )
        batch_op.create_index(
            'ix_versions_document_text', ['document_id', 'text_sha256'], unique=False
        )
    with op.batch_alter_table('clauses', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('kind', sa.String(length=20), server_default='paragraph', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('clauses', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('versions', schema=None) as batch_op:
        batch_op.drop_index('ix_versions_document_text')
        batch_op.drop_constraint('uq_versions_document_date', type_='unique')
        batch_op.create_unique_constraint(
            'uq_versions_document_id', ['document_id', 'text_sha256']
        )
