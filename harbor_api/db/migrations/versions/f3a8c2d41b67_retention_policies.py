"""tag retention policies and per-task results

Revision ID: f3a8c2d41b67
Revises: f3b9d2a7c1e4
Create Date: 2026-12-01 22:30:00
"""

from alembic import op
import sqlalchemy as sa

import harbor_api.db.base


revision = 'f3a8c2d41b67'
down_revision = 'f3b9d2a7c1e4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'retention_policies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('algorithm', sa.String(length=16), nullable=False),
        sa.Column('rules', sa.Text(), nullable=False),
        sa.Column('trigger_kind', sa.String(length=32), nullable=False),
        sa.Column('trigger_cron', sa.String(length=128), nullable=False),
        sa.Column('creation_time', harbor_api.db.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('update_time', harbor_api.db.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE',
                                name=op.f('fk_retention_policies_project_id_projects')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_retention_policies')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_retention_policies_project_id'), 'retention_policies',
                    ['project_id'], unique=True)
    op.create_table(
        'retention_task_results',
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('retained', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ondelete='CASCADE',
                                name=op.f('fk_retention_task_results_task_id_tasks')),
        sa.PrimaryKeyConstraint('task_id', name=op.f('pk_retention_task_results')),
    )


def downgrade() -> None:
    op.drop_table('retention_task_results')
    op.drop_index(op.f('ix_retention_policies_project_id'), table_name='retention_policies')
    op.drop_table('retention_policies')
