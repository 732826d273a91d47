"""audit chain and system cve allowlist

Audit rows get a hash chain (prev_hash, hash; the head row and the purge checkpoints):
existing rows are chained here, in id order. The system CVE allowlist (Harbor's project 0)
is the ``cve_allowlists`` row whose ``project_id`` is NULL.

Revision ID: d5a1f3c8e2b9
Revises: e5b1c7d9a2f4
Create Date: 2026-12-01 20:15:00.000000
"""

from alembic import op
import sqlalchemy as sa
import harbor_api.db.base
from harbor_api.db.audit_records import GENESIS, row_hash


revision = 'd5a1f3c8e2b9'
down_revision = 'e5b1c7d9a2f4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cve_allowlists', schema=None) as batch_op:
        batch_op.alter_column('project_id', existing_type=sa.Integer(), nullable=True)
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.Column('appends', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.create_table('audit_chain_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('purged_hash', sa.String(length=64), nullable=False),
    sa.Column('successor_id', sa.Integer(), nullable=True),
    sa.Column('purged_rows', sa.Integer(), nullable=False),
    sa.Column('created_at', harbor_api.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_checkpoints'))
    )
    with op.batch_alter_table('audit_chain_checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_chain_checkpoints_purged_hash'), ['purged_hash'], unique=False)
    with op.batch_alter_table('audit_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    _chain_existing_rows()


def _chain_existing_rows() -> None:
    conn = op.get_bind()
    logs = sa.table('audit_logs', sa.column('id'), sa.column('project_id'),
                    sa.column('operation'), sa.column('resource_type'), sa.column('resource'),
                    sa.column('username'),
                    sa.column('op_time', harbor_api.db.base.UTCDateTime(timezone=True)),
                    sa.column('prev_hash'), sa.column('hash'))
    prev = GENESIS
    rows = conn.execute(sa.select(logs).order_by(logs.c.id)).mappings().all()
    for row in rows:
        digest = row_hash(prev, dict(row))
        conn.execute(logs.update().where(logs.c.id == row['id'])
                     .values(prev_hash=prev, hash=digest))
        prev = digest
    head = sa.table('audit_chain_head', sa.column('id'), sa.column('last_hash'),
                    sa.column('appends'))
    conn.execute(head.insert().values(id=1, last_hash=prev, appends=len(rows)))


def downgrade() -> None:
    with op.batch_alter_table('audit_logs', schema=None) as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
    with op.batch_alter_table('audit_chain_checkpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_chain_checkpoints_purged_hash'))
    op.drop_table('audit_chain_checkpoints')
    op.drop_table('audit_chain_head')
    op.execute("DELETE FROM cve_allowlists WHERE project_id IS NULL")
    with op.batch_alter_table('cve_allowlists', schema=None) as batch_op:
        batch_op.alter_column('project_id', existing_type=sa.Integer(), nullable=False)
