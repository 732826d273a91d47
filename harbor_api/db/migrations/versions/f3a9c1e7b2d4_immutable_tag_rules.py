"""immutable tag rules per project

Revision ID: f3a9c1e7b2d4
Revises: a7c3e9f15b42
Create Date: 2026-12-01 22:40:00
"""

from alembic import op
import sqlalchemy as sa

from harbor_api.db.base import UTCDateTime


revision = 'f3a9c1e7b2d4'
down_revision = 'a7c3e9f15b42'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'immutable_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('priority', sa.Integer(), nullable=False),
        sa.Column('disabled', sa.Boolean(), nullable=False),
        sa.Column('repo_decoration', sa.String(length=16), nullable=False),
        sa.Column('repo_pattern', sa.String(length=1024), nullable=False),
        sa.Column('tag_decoration', sa.String(length=16), nullable=False),
        sa.Column('tag_pattern', sa.String(length=1024), nullable=False),
        sa.Column('selector_key', sa.String(length=64), nullable=False),
        sa.Column('params', sa.Text(), nullable=False),
        sa.Column('creation_time', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('project_id', 'selector_key', name='uq_immutable_rules_selectors'),
    )
    with op.batch_alter_table('immutable_rules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_immutable_rules_project_id'), ['project_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('immutable_rules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_immutable_rules_project_id'))
    op.drop_table('immutable_rules')
