"""per-project storage quotas; upload sessions record the bytes they reserve

Revision ID: e5b1c7d9a2f4
Revises: 344f441d4a1d
Create Date: 2026-12-01 20:10:00
"""

from alembic import op
import sqlalchemy as sa

from harbor_api.db.base import UTCDateTime


revision = 'e5b1c7d9a2f4'
down_revision = '344f441d4a1d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'quotas',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('hard', sa.BigInteger(), nullable=False),
        sa.Column('used', sa.BigInteger(), nullable=False),
        sa.Column('reserved', sa.BigInteger(), nullable=False),
        sa.Column('creation_time', UTCDateTime(), nullable=False),
        sa.Column('update_time', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quotas_project_id'), ['project_id'], unique=True)
    op.create_table(
        'artifact_blobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('artifact_id', sa.Integer(), nullable=False),
        sa.Column('digest', sa.String(length=150), nullable=False),
        sa.ForeignKeyConstraint(['artifact_id'], ['artifacts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('artifact_id', 'digest', name='uq_artifact_blobs_artifact_digest'),
    )
    with op.batch_alter_table('artifact_blobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_artifact_blobs_artifact_id'), ['artifact_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_artifact_blobs_digest'), ['digest'], unique=False)
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reserved', sa.BigInteger(), server_default='0',
                                      nullable=False))
    # Existing projects: unlimited, with their current usage (distinct blobs per project).
    op.execute(
        "INSERT INTO quotas (project_id, hard, used, reserved, creation_time, update_time) "
        "SELECT p.id, -1, COALESCE((SELECT SUM(b.size) FROM blobs b WHERE b.digest IN "
        "(SELECT rb.digest FROM repository_blobs rb JOIN repositories r "
        "ON r.id = rb.repository_id WHERE r.project_id = p.id)), 0), 0, "
        "p.creation_time, p.creation_time FROM projects p")


def downgrade() -> None:
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_column('reserved')
    with op.batch_alter_table('artifact_blobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_artifact_blobs_digest'))
        batch_op.drop_index(batch_op.f('ix_artifact_blobs_artifact_id'))
    op.drop_table('artifact_blobs')
    with op.batch_alter_table('quotas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quotas_project_id'))
    op.drop_table('quotas')
