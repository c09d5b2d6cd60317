"""fetch_attempts: normalisation key and resulting text hash (skip re-normalising)

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-29 19:54:45
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('fetch_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('normalise_key', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('text_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fetch_attempts', schema=None) as batch_op:
        batch_op.drop_column('text_sha256')
        batch_op.drop_column('normalise_key')
