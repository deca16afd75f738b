"""sign-in code requests, members' and strangers' alike (a keyed hash of the email), so the
per-email limit answers both the same

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'election_sign_in_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('election_id', sa.Integer(), nullable=False),
        sa.Column('email_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['election_id'], ['elections.id'], ondelete='CASCADE',
            name=op.f('fk_election_sign_in_requests_election_id_elections'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_election_sign_in_requests')),
    )
    op.create_index(
        op.f('ix_election_sign_in_requests_election_id'),
        'election_sign_in_requests',
        ['election_id', 'email_hash', 'created_at'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f('ix_election_sign_in_requests_election_id'),
        table_name='election_sign_in_requests',
    )
    op.drop_table('election_sign_in_requests')
