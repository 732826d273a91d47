"""login_failures: failed-login counters shared by every worker

Revision ID: b7c41e2f9a10
Revises: 58001d1ae083
Create Date: 2026-12-01 19:00:00
"""

from alembic import op
import sqlalchemy as sa
import harbor_api.db.base


revision = 'b7c41e2f9a10'
down_revision = "58001d1ae083"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_failures',
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', harbor_api.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_failure', harbor_api.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('username', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_last_failure'), ['last_failure'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_last_failure'))
    op.drop_table('login_failures')
