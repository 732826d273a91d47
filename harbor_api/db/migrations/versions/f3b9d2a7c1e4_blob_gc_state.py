"""garbage collection state on blobs: a status (compare-and-set) and when a push last used it

Revision ID: f3b9d2a7c1e4
Revises: f3a9c2d4b7e1
Create Date: 2026-12-01 22:30:00
"""

from alembic import op
import sqlalchemy as sa

from harbor_api.db.base import UTCDateTime


revision = 'f3b9d2a7c1e4'
down_revision = 'f3a9c2d4b7e1'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='none',
                                      nullable=False))
        batch_op.add_column(sa.Column('touched_at', UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.drop_column('touched_at')
        batch_op.drop_column('status')
