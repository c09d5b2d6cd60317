"""run_locks (who holds a run lock); versions: no two consecutive versions with the same text

The rule is enforced where the version is written, by a trigger on INSERT and on UPDATE of
the columns it reads: the version just before and just after the new one (by date) in its
document must have a different text. On PostgreSQL the trigger first takes a transaction
advisory lock on the document, so two concurrent writers of one document are serialised and
the second sees the first's version. The error says "clausewatch: repeated version"
(archive.store.record_version turns it into "unchanged").

SQLite: a batch alter of ``versions`` (move and copy) drops its triggers; a later migration
that batch-alters ``versions`` must create them again (tests/test_storage_guards.py checks
they exist at head).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 07:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE = 'clausewatch: repeated version (same text as the previous or next version)'

# SQLite: one trigger per event; the WHEN clause reads the neighbours by date.
_SQLITE_NEIGHBOURS = """
    (SELECT v.text_sha256 FROM versions v
      WHERE v.document_id = NEW.document_id AND v.version_date < NEW.version_date {self}
      ORDER BY v.version_date DESC, v.id DESC LIMIT 1) = NEW.text_sha256
 OR (SELECT v.text_sha256 FROM versions v
      WHERE v.document_id = NEW.document_id AND v.version_date > NEW.version_date {self}
      ORDER BY v.version_date ASC, v.id ASC LIMIT 1) = NEW.text_sha256
"""

SQLITE_TRIGGERS = [
    f"""
CREATE TRIGGER versions_no_repeat_insert BEFORE INSERT ON versions
FOR EACH ROW WHEN {_SQLITE_NEIGHBOURS.format(self="")}
BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
""",
    f"""
CREATE TRIGGER versions_no_repeat_update
BEFORE UPDATE OF document_id, version_date, text_sha256 ON versions
FOR EACH ROW WHEN {_SQLITE_NEIGHBOURS.format(self="AND v.id <> NEW.id")}
BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
""",
]

POSTGRES_FUNCTION = f"""
CREATE OR REPLACE FUNCTION clausewatch_versions_no_repeat() RETURNS trigger AS $$
DECLARE
    before_sha text;
    after_sha text;
BEGIN
    -- one writer per document at a time; the queries below then see its committed version
    PERFORM pg_advisory_xact_lock(1668771191, NEW.document_id);
    SELECT v.text_sha256 INTO before_sha FROM versions v
     WHERE v.document_id = NEW.document_id AND v.version_date < NEW.version_date
       AND v.id IS DISTINCT FROM NEW.id
     ORDER BY v.version_date DESC, v.id DESC LIMIT 1;
    SELECT v.text_sha256 INTO after_sha FROM versions v
     WHERE v.document_id = NEW.document_id AND v.version_date > NEW.version_date
       AND v.id IS DISTINCT FROM NEW.id
     ORDER BY v.version_date ASC, v.id ASC LIMIT 1;
    IF before_sha = NEW.text_sha256 OR after_sha = NEW.text_sha256 THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""

POSTGRES_TRIGGER = """
CREATE TRIGGER versions_no_repeat
BEFORE INSERT OR UPDATE OF document_id, version_date, text_sha256 ON versions
FOR EACH ROW EXECUTE FUNCTION clausewatch_versions_no_repeat()
"""


def create_version_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    elif dialect == 'postgresql':
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)


def drop_version_triggers() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS versions_no_repeat_insert')
        op.execute('DROP TRIGGER IF EXISTS versions_no_repeat_update')
    elif dialect == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS versions_no_repeat ON versions')
        op.execute('DROP FUNCTION IF EXISTS clausewatch_versions_no_repeat()')


def upgrade() -> None:
    op.create_table(
        'run_locks',
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('host', sa.String(length=255), nullable=False),
        sa.Column('command', sa.String(length=200), nullable=False),
        sa.Column('since', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_run_locks')),
    )
    create_version_triggers()


def downgrade() -> None:
    drop_version_triggers()
    op.drop_table('run_locks')
