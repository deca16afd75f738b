"""ballots stored in receipt order: on SQLite the ballot tables become WITHOUT ROWID (their
physical order no longer follows the order ballots were cast); PostgreSQL is handled when a
ballot is cast (CLUSTER in key order)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 15:40:00
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('election_ballots', 'election_choices')


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate='always', table_kwargs={'sqlite_with_rowid': with_rowid}
        ):
            pass


def upgrade() -> None:
    _rebuild(with_rowid=False)
    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:  # what is stored already, in key order too
            op.execute(f'CLUSTER {table} USING pk_{table}')


def downgrade() -> None:
    _rebuild(with_rowid=True)
