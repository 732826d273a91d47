"""webhook policies

Revision ID: a7c3e9f15b42
Revises: d5f1b7c20e93
Create Date: 2026-12-01 22:30:00
"""

from alembic import op
import sqlalchemy as sa

import harbor_api.db.base


revision = 'a7c3e9f15b42'
down_revision = "d5f1b7c20e93"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'webhook_policies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=256), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('targets', sa.Text(), nullable=False),
        sa.Column('event_types', sa.Text(), nullable=False),
        sa.Column('creator', sa.String(length=255), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('creation_time', harbor_api.db.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('update_time', harbor_api.db.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE',
                                name=op.f('fk_webhook_policies_project_id_projects')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_policies')),
        sa.UniqueConstraint('project_id', 'name', name='uq_webhook_policies_project_id_name'),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_webhook_policies_project_id'), 'webhook_policies', ['project_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_webhook_policies_project_id'), table_name='webhook_policies')
    op.drop_table('webhook_policies')
