"""registries: the registry endpoints of replication and proxy-cache projects

Revision ID: c4e8a2d61f35
Revises: a3c9e1f04b7d
Create Date: 2026-12-01 19:40:00
"""

from alembic import op
import sqlalchemy as sa

import harbor_api.db.base


revision = 'c4e8a2d61f35'
down_revision = "a3c9e1f04b7d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'registries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('url', sa.String(length=512), nullable=False),
        sa.Column('type', sa.String(length=32), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('insecure', sa.Boolean(), nullable=False),
        sa.Column('credential_type', sa.String(length=16), nullable=False),
        sa.Column('access_key', sa.String(length=255), nullable=False),
        sa.Column('access_secret', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('creation_time', harbor_api.db.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column('update_time', harbor_api.db.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registries')),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f('ix_registries_name'), 'registries', ['name'], unique=True)


def downgrade() -> None:
    op.drop_index(op.f('ix_registries_name'), table_name='registries')
    op.drop_table('registries')
