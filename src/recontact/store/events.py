"""Event logs folded into contacts, set-based in the staging table (no row passes through Python).

An event log has one row per update of a ticket. The valid staged rows sharing an ``_event_id``
are one contact: its latest row (the last by the scan's ordering values, then by file order) is
kept, with ``started_at`` set to the earliest ``started_at`` of the ticket's valid rows, and the
other rows are marked ``folded`` (counted, not imported, not rejected). A row without an event id is
a contact of its own. Rejected rows (and rows to skip) take no part: they are reported as usual.

Legs of a call (``EventLog.legs``) fold the same way, but the kept row takes the call's outcome
from all its legs (answered, abandoned, wait, talk); a leg repeated verbatim takes no part and is
given the call's content, so it is counted as a duplicate of the call.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from recontact.importers.base import EventLog, sql_str
from recontact.store.stage import CONTENT_FIELDS, FOLDED


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
        if events.legs:
            return (f"call legs: {self.rows:,} CDR rows folded by {events.id_column} into {self.contacts:,} calls "
                    f"({per:.1f} legs per call on average): answered if any leg was, talk summed over the legs, "
                    f"wait from the first leg's start to the first answer; {self.folded:,} legs counted as folded")
        order = ", ".join([*events.order, "file order"])
        return (f"event log: {self.rows:,} rows of {events.id_column} folded into {self.contacts:,} contacts "
                f"({per:.1f} rows per contact on average), each at its earliest time, other fields from its "
                f"latest row (by {order}); {self.folded:,} rows counted as folded")


def fold_events(con: duckdb.DuckDBPyConnection, events: EventLog) -> Folded:
    """Fold the valid rows of ``_staged`` sharing ``_event_id`` into one contact each (see the
    module docstring). Rows that already have a ``contact_id`` keep it; the others take the event
    id, so the contact's identity is its ticket."""
    order = ", ".join([*(f"_event_order_{i} DESC NULLS LAST" for i in range(1, len(events.order) + 1)),
                       "r DESC"])
    repeat = (f"row_number() OVER (PARTITION BY _event_id, {', '.join([*CONTENT_FIELDS, 'extra'])} ORDER BY rowid) > 1"
              if events.legs else "false")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _fold AS
        SELECT r, row_number() OVER w AS nth, min(started_at) OVER p AS first_at{_LEG_TOTALS if events.legs else ""}
        FROM (SELECT rowid AS r, *, {repeat} AS _repeat FROM _staged WHERE _reason IS NULL AND _event_id IS NOT NULL)
        WHERE NOT _repeat
        WINDOW p AS (PARTITION BY _event_id), w AS (PARTITION BY _event_id ORDER BY {order})
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
    if events.legs:
        _call_outcome(con)
    con.execute("DROP TABLE _fold")
    return Folded(int(rows), int(contacts))


#: The call's outcome over its legs (epoch seconds): a leg answers at start + wait and ends at
#: start + wait + talk.
_LEG_TOTALS = """,
    bool_or(answered) OVER p AS any_answered, bool_or(abandoned) OVER p AS any_abandoned,
    sum(talk_s) OVER p AS talk, min(epoch(started_at)) OVER p AS first_s,
    min(CASE WHEN answered THEN epoch(started_at) + coalesce(wait_s, 0) END) OVER p AS answer_s,
    max(epoch(started_at) + coalesce(wait_s, 0) + coalesce(talk_s, 0)) OVER p AS end_s"""


def _call_outcome(con: duckdb.DuckDBPyConnection) -> None:
    """Give each call's kept leg the call's outcome, then give the legs repeated verbatim (valid,
    with the call's event id, not folded) the kept leg's content, so they count as duplicates."""
    con.execute("""
        UPDATE _staged SET answered = f.any_answered,
            abandoned = NOT coalesce(f.any_answered, false) AND f.any_abandoned,
            talk_s = f.talk, wait_s = greatest(coalesce(f.answer_s, f.end_s) - f.first_s, 0)
        FROM _fold f WHERE _staged.rowid = f.r AND f.nth = 1
    """)
    columns = ", ".join(f"{c} = k.{c}" for c in [*CONTENT_FIELDS, "extra", "contact_id", "dedupe_key"])
    con.execute(f"""
        UPDATE _staged SET {columns}
        FROM (SELECT s._event_id AS id, s.rowid AS kept, s.*
              FROM _staged s JOIN _fold f ON s.rowid = f.r AND f.nth = 1) k
        WHERE _staged._reason IS NULL AND _staged._event_id = k.id AND _staged.rowid <> k.kept
    """)
