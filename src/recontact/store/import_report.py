"""What an import did, as the interfaces report it: the store's ``ImportSummary`` plus the figures
a manager needs to read its identity counts right.

``withheld`` (contacts whose caller id was withheld or a placeholder) is not a part of
``unidentified`` (contacts that identify no one): a withheld call can still carry an account or
an e-mail that identifies its customer. ``withheld_identified`` counts those, so that
``withheld - withheld_identified`` is the withheld calls that identify no one.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from recontact.store.contacts import Store
from recontact.store.load import ImportSummary


@dataclass
class ImportReport(ImportSummary):
    """``ImportSummary`` plus ``withheld_identified``: of the ``withheld`` contacts this import
    added, those still identified by another id (account, e-mail, employee id), so a customer's."""

    withheld_identified: int = 0


def import_report(store: Store, summary: ImportSummary) -> ImportReport:
    """``summary`` with the counts above, from the contacts its import added (none when the file
    was already imported)."""
    report = ImportReport(**{f.name: getattr(summary, f.name) for f in fields(summary)})
    if summary.import_id is not None and summary.withheld:
        row = store.con.execute("SELECT count(*) FROM contacts WHERE import_id = ? AND withheld "
                                "AND customer_key IS NOT NULL", [summary.import_id]).fetchall()
        report.withheld_identified = int(row[0][0])
    return report
