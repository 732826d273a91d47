"""replication policies and task progress

Revision ID: d5f1b7c20e93
Revises: d5a1f3c8e2b9
Create Date: 2026-12-01 20:10:00
"""

from alembic import op
import sqlalchemy as sa

import harbor_api.db.base


revision = 'd5f1b7c20e93'
down_revision = "d5a1f3c8e2b9"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'replication_policies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=256), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('src_registry_id', sa.Integer(), nullable=True),
        sa.Column('dest_registry_id', sa.Integer(), nullable=True),
        sa.Column('dest_namespace', sa.String(length=255), nullable=False),
        sa.Column('dest_namespace_replace_count', sa.Integer(), nullable=False),
        sa.Column('trigger_type', sa.String(length=16), nullable=False),
        sa.Column('trigger_cron', sa.String(length=64), nullable=False),
        sa.Column('filters', sa.Text(), nullable=False),
        sa.Column('replicate_deletion', sa.Boolean(), nullable=False),
        sa.Column('override', sa.Boolean(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('speed', sa.Integer(), nullable=False),
        sa.Column('copy_by_chunk', sa.Boolean(), nullable=False),
        sa.Column('single_active_replication', sa.Boolean(), nullable=False),
        sa.Column('creation_time', harbor_api.db.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('update_time', harbor_api.db.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.ForeignKeyConstraint(['dest_registry_id'], ['registries.id'],
                                name=op.f('fk_replication_policies_dest_registry_id_registries')),
        sa.ForeignKeyConstraint(['src_registry_id'], ['registries.id'],
                                name=op.f('fk_replication_policies_src_registry_id_registries')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_replication_policies')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_replication_policies_name'), 'replication_policies', ['name'],
                    unique=True)
    op.create_index(op.f('ix_replication_policies_src_registry_id'), 'replication_policies',
                    ['src_registry_id'], unique=False)
    op.create_index(op.f('ix_replication_policies_dest_registry_id'), 'replication_policies',
                    ['dest_registry_id'], unique=False)
    op.create_table(
        'replication_task_progress',
        sa.Column('task_id', sa.Integer(), nullable=False),
        sa.Column('bytes_copied', sa.BigInteger(), nullable=False),
        sa.Column('update_time', harbor_api.db.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ondelete='CASCADE',
                                name=op.f('fk_replication_task_progress_task_id_tasks')),
        sa.PrimaryKeyConstraint('task_id', name=op.f('pk_replication_task_progress')),
    )


def downgrade() -> None:
    op.drop_table('replication_task_progress')
    op.drop_index(op.f('ix_replication_policies_dest_registry_id'),
                  table_name='replication_policies')
    op.drop_index(op.f('ix_replication_policies_src_registry_id'),
                  table_name='replication_policies')
    op.drop_index(op.f('ix_replication_policies_name'), table_name='replication_policies')
    op.drop_table('replication_policies')
