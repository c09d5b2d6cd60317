"""drafts.analysis_version: the ProvisionAnalysis version each stored analysis was written with
(every analysis stored before this column is version 1)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 11:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0013'
down_revision: str | Sequence[str] | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('analysis_version', sa.Integer(), server_default='1', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_column('analysis_version')
