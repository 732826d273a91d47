"""audit chain and system cve allowlist

The system CVE allowlist (Harbor's project 0) is the ``cve_allowlists`` row whose
``project_id`` is NULL.

Revision ID: d5a1f3c8e2b9
Revises: 344f441d4a1d
Create Date: 2026-12-01 20:15:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = 'd5a1f3c8e2b9'
down_revision = '344f441d4a1d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cve_allowlists', schema=None) as batch_op:
        batch_op.alter_column('project_id', existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM cve_allowlists WHERE project_id IS NULL")
    with op.batch_alter_table('cve_allowlists', schema=None) as batch_op:
        batch_op.alter_column('project_id', existing_type=sa.Integer(), nullable=False)
