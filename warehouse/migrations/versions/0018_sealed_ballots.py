"""the ballot box: cast ballots sealed until they are released in shuffled batches (a ballot no
longer shares its voter's transaction, so the per-cast CLUSTER of the ballot tables goes)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'election_sealed_ballots',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('election_id', sa.Integer(), nullable=False),
        sa.Column('receipt_hash', sa.String(length=64), nullable=False),
        sa.Column('sealed', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ['election_id'],
            ['elections.id'],
            name=op.f('fk_election_sealed_ballots_election_id_elections'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_election_sealed_ballots')),
    )
    op.create_index(
        op.f('ix_election_sealed_ballots_election_id'),
        'election_sealed_ballots',
        ['election_id'],
        unique=False,
    )
    op.create_index(
        op.f('ix_election_sealed_ballots_receipt_hash'),
        'election_sealed_ballots',
        ['receipt_hash'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f('ix_election_sealed_ballots_receipt_hash'), table_name='election_sealed_ballots'
    )
    op.drop_index(
        op.f('ix_election_sealed_ballots_election_id'), table_name='election_sealed_ballots'
    )
    op.drop_table('election_sealed_ballots')
