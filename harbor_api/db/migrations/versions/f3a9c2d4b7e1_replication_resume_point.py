"""replication task resume point (copy_by_chunk)

Revision ID: f3a9c2d4b7e1
Revises: f3a9c1e7b2d4
Create Date: 2026-12-01 22:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'f3a9c2d4b7e1'
down_revision = 'f3a9c1e7b2d4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('replication_task_progress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resume_point', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('replication_task_progress', schema=None) as batch_op:
        batch_op.drop_column('resume_point')
