"""draft_claims: changes queued for task workers, each claimed once under a lease

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 11:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'draft_claims',
        sa.Column('change_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('priority', sa.Float(), nullable=False),
        sa.Column('label', sa.String(length=300), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('token', sa.String(length=36), nullable=True),
        sa.Column('worker', sa.String(length=300), nullable=True),
        sa.Column('task_run_id', sa.String(length=36), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('queued_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('lease_expires_at', sa.DateTime(), nullable=True),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('draft_id', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ['change_id'], ['changes.id'],
            name=op.f('fk_draft_claims_change_id_changes'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('change_id', name=op.f('pk_draft_claims')),
        sa.CheckConstraint(
            "state IN ('queued', 'claimed', 'done', 'failed')", name=op.f('ck_draft_claims_state')
        ),
    )
    with op.batch_alter_table('draft_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_draft_claims_state'), ['state'], unique=False)
        batch_op.create_index(
            batch_op.f('ix_draft_claims_lease_expires_at'), ['lease_expires_at'], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table('draft_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_draft_claims_lease_expires_at'))
        batch_op.drop_index(batch_op.f('ix_draft_claims_state'))
    op.drop_table('draft_claims')
