"""fetch_attempts: size and sha256 of the whole body (a failed fetch keeps only its first 64 KB)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('fetch_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('body_size', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('body_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('fetch_attempts', schema=None) as batch_op:
        batch_op.drop_column('body_sha256')
        batch_op.drop_column('body_size')
