"""One live case flag per episode: a unique index on what identifies an episode.

Two syncs at once used to attach one episode twice (two cases, two notices). Rows already doubled
keep their lowest id live; the others become not live (the next sync closes the doubled open case
as a duplicate of the first, as after a merge).

Revision ID: 0003_one_case_per_episode
Revises: 0002_outbox
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_one_case_per_episode"
down_revision = "0002_outbox"
branch_labels = None
depends_on = None

INDEX = "uq_case_flags_episode"


def upgrade() -> None:
    flags = sa.table("case_flags", sa.column("id", sa.Integer), sa.column("customer_key", sa.BigInteger),
                     sa.column("rule", sa.String), sa.column("category", sa.String),
                     sa.column("crossed_at", sa.DateTime), sa.column("live", sa.Boolean))
    first = (sa.select(sa.func.min(flags.c.id)).where(flags.c.live)
             .group_by(flags.c.customer_key, flags.c.rule, sa.func.coalesce(flags.c.category, ""), flags.c.crossed_at))
    op.execute(flags.update().where(flags.c.live, flags.c.id.not_in(first)).values(live=False))
    live = sa.text("live")
    op.create_index(INDEX, "case_flags", ["customer_key", "rule", sa.text("coalesce(category, '')"), "crossed_at"],
                    unique=True, sqlite_where=live, postgresql_where=live)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="case_flags")
