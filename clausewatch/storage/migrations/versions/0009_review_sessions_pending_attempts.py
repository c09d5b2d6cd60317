"""review app: server-side sessions (revocable), login attempts pending while checked

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 07:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('review_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_review_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_review_sessions_token_hash'))
    )
    with op.batch_alter_table('review_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_sessions_user_id'), ['user_id'], unique=False)
    # NULL while the password is being checked: concurrent attempts count each other
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.alter_column('success', existing_type=sa.Boolean(), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE login_attempts SET success = false WHERE success IS NULL")
    with op.batch_alter_table('login_attempts', schema=None) as batch_op:
        batch_op.alter_column('success', existing_type=sa.Boolean(), nullable=False)
    with op.batch_alter_table('review_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_sessions_user_id'))
    op.drop_table('review_sessions')
