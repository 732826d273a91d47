"""upload sessions record their owner (per-user limits on open uploads)

Revision ID: a7c3e91f0b42
Revises: 0d2772253f7f
Create Date: 2026-12-01 19:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'a7c3e91f0b42'
down_revision = '0d2772253f7f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_uploads_owner'), ['owner'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploads_owner'))
        batch_op.drop_column('owner')
