"""Event types, actions, automations, and the secret reference index.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE",
                                   name=op.f(f"fk_{table}_tenant_id_tenants"))


def _stamps() -> list[sa.Column]:
    return [sa.Column("created_at", UTCDateTime(), nullable=False),
            sa.Column("updated_at", UTCDateTime(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "event_types",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("payload_schema", sa.JSON(), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_types")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_event_types_tenant_id_name")),
        _tenant_fk("event_types"),
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("sink", sa.String(64), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("timeout", sa.Float(), nullable=False),
        sa.Column("retry_attempts", sa.Integer(), nullable=False),
        sa.Column("retry_backoff", sa.Float(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actions")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_actions_tenant_id_name")),
        _tenant_fk("actions"),
    )
    op.create_table(
        "automations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("event_type_id", sa.String(36), nullable=False),
        sa.Column("action_id", sa.String(36), nullable=False),
        sa.Column("condition", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automations")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_automations_tenant_id_name")),
        _tenant_fk("automations"),
        sa.ForeignKeyConstraint(["event_type_id"], ["event_types.id"], ondelete="RESTRICT",
                                name=op.f("fk_automations_event_type_id_event_types")),
        sa.ForeignKeyConstraint(["action_id"], ["actions.id"], ondelete="RESTRICT",
                                name=op.f("fk_automations_action_id_actions")),
    )
    op.create_index("ix_automations_match", "automations", ["event_type_id", "enabled"])
    op.create_index(op.f("ix_automations_action_id"), "automations", ["action_id"])

    op.create_table(
        "secret_references",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("secret_key", sa.String(128), nullable=False),
        sa.Column("owner_kind", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=False),
        sa.Column("owner_name", sa.String(128), nullable=False),
        sa.Column("parameter", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_secret_references")),
        _tenant_fk("secret_references"),
    )
    op.create_index("ix_secret_references_key", "secret_references",
                    ["secret_key", "tenant_id"])
    op.create_index("ix_secret_references_owner", "secret_references",
                    ["owner_kind", "owner_id"])


def downgrade() -> None:
    op.drop_table("secret_references")
    op.drop_table("automations")
    op.drop_table("actions")
    op.drop_table("event_types")
