"""uploads.verified_digest: the digest a finish verified before moving the session's bytes

Revision ID: a3c9e1f04b7d
Revises: b7c41e2f9a10
Create Date: 2026-12-01 19:05:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'a3c9e1f04b7d'
down_revision = "b7c41e2f9a10"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('verified_digest', sa.String(length=150), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_column('verified_digest')
