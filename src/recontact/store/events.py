"""Event logs folded into contacts, set-based in the staging table (no row passes through Python).

An event log has one row per update of a ticket. The valid staged rows sharing an ``_event_id``
are one contact: its latest row (the last by the scan's ordering values, then by file order) is
kept, with ``started_at`` set to the earliest ``started_at`` of the ticket's valid rows, and the
other rows are marked ``folded`` (counted, not imported, not rejected). A row without an event id is
a contact of its own. Rejected rows (and rows to skip) take no part: they are reported as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from recontact.importers.base import EventLog, sql_str
from recontact.store.stage import FOLDED


@dataclass(frozen=True)
class Folded:
    """What folding did: ``rows`` valid rows with an event id became ``contacts`` contacts;
    ``folded`` = rows - contacts were folded into them."""

    rows: int
    contacts: int

    @property
    def folded(self) -> int:
        return self.rows - self.contacts

    def note(self, events: EventLog) -> str:
        """The summary's note: how many rows per contact, and which row won."""
        per = self.rows / self.contacts if self.contacts else 0.0
        order = ", ".join([*events.order, "file order"])
        return (f"event log: {self.rows:,} rows of {events.id_column} folded into {self.contacts:,} contacts "
                f"({per:.1f} rows per contact on average), each at its earliest time, other fields from its "
                f"latest row (by {order}); {self.folded:,} rows counted as folded")


def fold_events(con: duckdb.DuckDBPyConnection, events: EventLog) -> Folded:
    """Fold the valid rows of ``_staged`` sharing ``_event_id`` into one contact each (see the
    module docstring). Rows that already have a ``contact_id`` keep it; the others take the event
    id, so the contact's identity is its ticket."""
    order = ", ".join([*(f"_event_order_{i} DESC NULLS LAST" for i in range(1, len(events.order) + 1)),
                       "rowid DESC"])
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _fold AS
        SELECT rowid AS r, row_number() OVER w AS nth, min(started_at) OVER (PARTITION BY _event_id) AS first_at
        FROM _staged WHERE _reason IS NULL AND _event_id IS NOT NULL
        WINDOW w AS (PARTITION BY _event_id ORDER BY {order})
    """)
    rows, contacts = con.execute("SELECT count(*), count(*) FILTER (WHERE nth = 1) FROM _fold").fetchall()[0]
    con.execute(f"""
        UPDATE _staged SET
            _reason = CASE WHEN f.nth > 1 THEN {sql_str(FOLDED)} END,
            started_at = CASE WHEN f.nth = 1 THEN f.first_at ELSE _staged.started_at END,
            contact_id = CASE WHEN f.nth = 1 THEN coalesce(_staged.contact_id, _staged._event_id)
                              ELSE _staged.contact_id END,
            dedupe_key = CASE WHEN f.nth = 1 THEN coalesce(_staged.contact_id, _staged._event_id)
                              ELSE _staged.dedupe_key END
        FROM _fold f WHERE _staged.rowid = f.r
    """)
    con.execute("DROP TABLE _fold")
    return Folded(int(rows), int(contacts))
