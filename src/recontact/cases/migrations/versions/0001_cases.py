"""Cases: roles, users, cases, case flags, case events, notes, outreach, audit log.

Revision ID: 0001_cases
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from recontact.cases.db import UTCDateTime

revision = "0001_cases"
down_revision = None
branch_labels = None
depends_on = None

ROLES = (
    ("admin", "Configures recontact, manages users, sees everything."),
    ("supervisor", "Leads agents; owns or reassigns their customers' cases."),
    ("liaison", "Works a queue of flagged customers: rings them back, owns the fix."),
    ("manager", "Line manager: decides non-technical fixes (replacing equipment, credits)."),
    ("senior", "Senior technical resource cases are escalated to."),
    ("viewer", "Reads cases and reports, changes nothing."),
    ("agent", "Help-desk agent: may own the cases of customers they last handled."),
)


def upgrade() -> None:
    roles = op.create_table(
        "roles",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_roles")),
    )
    op.bulk_insert(roles, [{"name": n, "description": d} for n, d in ROLES])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("agent_id", sa.String(100), nullable=True),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("in_pool", sa.Boolean(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["role"], ["roles.name"], name=op.f("fk_users_role_roles")),
        sa.ForeignKeyConstraint(["supervisor_id"], ["users.id"], name=op.f("fk_users_supervisor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("agent_id", name=op.f("uq_users_agent_id")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_key", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("routed_by", sa.String(40), nullable=True),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("contact_count", sa.Integer(), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=True),
        sa.Column("escalated_to", sa.String(20), nullable=True),
        sa.Column("escalated_user_id", sa.Integer(), nullable=True),
        sa.Column("resolution_code", sa.String(40), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["escalated_user_id"], ["users.id"], name=op.f("fk_cases_escalated_user_id_users")),
        sa.ForeignKeyConstraint(["merged_into_id"], ["cases.id"], name=op.f("fk_cases_merged_into_id_cases")),
        sa.ForeignKeyConstraint(["owner_id"], ["users.id"], name=op.f("fk_cases_owner_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
    )
    op.create_index(op.f("ix_cases_customer_key"), "cases", ["customer_key"])
    op.create_index(op.f("ix_cases_owner_id"), "cases", ["owner_id"])
    op.create_index(op.f("ix_cases_state"), "cases", ["state"])
    op.create_index("ix_cases_customer_rule_state", "cases", ["customer_key", "rule", "state"])
    op.create_table(
        "case_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("customer_key", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("category", sa.String(200), nullable=True),
        sa.Column("crossed_at", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(200), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("attached_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_flags_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_flags")),
    )
    op.create_index(op.f("ix_case_flags_case_id"), "case_flags", ["case_id"])
    op.create_index(op.f("ix_case_flags_customer_key"), "case_flags", ["customer_key"])
    op.create_table(
        "case_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=True),
        sa.Column("to_state", sa.String(20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_events_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_events")),
    )
    op.create_index(op.f("ix_case_events_case_id"), "case_events", ["case_id"])
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_notes_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
    )
    op.create_index(op.f("ix_notes_case_id"), "notes", ["case_id"])
    op.create_table(
        "outreach",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_outreach_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outreach")),
    )
    op.create_index(op.f("ix_outreach_case_id"), "outreach", ["case_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])


def downgrade() -> None:
    for table in ("audit_log", "outreach", "notes", "case_events", "case_flags", "cases", "users", "roles"):
        op.drop_table(table)
