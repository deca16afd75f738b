"""sign-in code requests count the codes tried against them (a stranger answered as a member
is) and the asking address (a keyed hash), for a per-address limit

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('election_sign_in_requests') as batch:
        batch.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch.add_column(sa.Column('client_hash', sa.String(length=64), nullable=True))
    op.create_index(
        'ix_election_sign_in_requests_client_hash',
        'election_sign_in_requests',
        ['election_id', 'client_hash', 'created_at'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        'ix_election_sign_in_requests_client_hash',
        table_name='election_sign_in_requests',
    )
    with op.batch_alter_table('election_sign_in_requests') as batch:
        batch.drop_column('client_hash')
        batch.drop_column('attempts')
