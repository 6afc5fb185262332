"""The corpus (issue 26): every importer fed the awkward variants its format produces in the field
— missing optional columns, display values instead of ids, extra vendor columns, legs and versions
of one record, JSON pages of any size, old and new date formats. Each variant must import with no
traceback, every row accounted for (imported + rejected + folded + duplicates + conflicts +
skipped == read), no conflict inside the file, and give its one expected figure (contacts
imported), counted by hand from the sample files (tests/data) and the generators named.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_import_servicenow import list_export
from zendesk_pages import write_page

DATA = Path(__file__).parent.parent / "data"
Build = Callable[[Path], Path]


def sample(rel: str) -> Build:
    return lambda tmp: DATA / rel


def rewritten(rel: str, change: Callable[[list[list[str]]], list[list[str]]], name: str | None = None,
              header: bool = True, encoding: str = "utf-8") -> Build:
    """The sample with its records changed by ``change`` (csv module: quoted line breaks kept)."""

    def build(tmp: Path) -> Path:
        with (DATA / rel).open(encoding=encoding, newline="") as f:
            rows = list(csv.reader(f))
        out = tmp / (name or Path(rel).name)
        with out.open("w", encoding=encoding, newline="") as f:
            csv.writer(f, quoting=csv.QUOTE_MINIMAL if header else csv.QUOTE_ALL).writerows(change(rows))
        return out

    return build


def extra_column(rows: list[list[str]]) -> list[list[str]]:
    """A vendor column the importer does not know, at the end."""
    return [[*rows[0], "X Vendor Custom Field"], *([*r, "kept"] for r in rows[1:] if r)]


def without(*columns: str) -> Callable[[list[list[str]]], list[list[str]]]:
    def change(rows: list[list[str]]) -> list[list[str]]:
        keep = [i for i, c in enumerate(rows[0]) if c not in columns]
        assert len(keep) == len(rows[0]) - len(columns), columns
        return [[r[i] for i in keep if i < len(r)] for r in rows if r]
    return change


def fields_kept(n: int) -> Callable[[list[list[str]]], list[list[str]]]:
    return lambda rows: [r[:n] for r in rows]


def drop_field(i: int) -> Callable[[list[list[str]]], list[list[str]]]:
    return lambda rows: [r[:i] + r[i + 1:] for r in rows]


def zendesk_page(count: int, cursor: bool, indent: int | None = None) -> Build:
    return lambda tmp: write_page(tmp / "tickets.json", 1, count, cursor=cursor, indent=indent)


#: (format, variant, file, contacts imported)
VARIANTS: list[tuple[str, str, Build, int]] = [
    ("asterisk", "cdr_csv 18 fields, a record twice, unknown disposition", sample("asterisk/cdr_csv.csv"), 4),
    ("asterisk", "cdr_csv 16 fields (no loguniqueid/loguserfield)",
     rewritten("asterisk/cdr_csv.csv", fields_kept(16), header=False), 4),
    ("asterisk", "cdr_custom sample template", sample("asterisk/cdr_custom.csv"), 6),
    ("asterisk", "cdr_csv 21 fields, legs by linkedid, Latin-1 name", sample("asterisk/master_linkedid.csv"), 6),
    ("asterisk", "cdr_csv 20 fields (newcdrcolumns, no userfield)",
     rewritten("asterisk/master_linkedid.csv", drop_field(17), header=False, encoding="latin-1"), 6),
    ("twilio", "Console CSV, RFC 2822 and ISO dates", sample("twilio/call_log.csv"), 7),
    ("twilio", "Console CSV with an extra vendor column", rewritten("twilio/call_log.csv", extra_column), 7),
    ("twilio", "Console CSV without Caller Name", rewritten("twilio/call_log.csv", without("Caller Name")), 7),
    ("twilio", "API JSON page, 2010 RFC 2822 and ISO dates, a leg", sample("twilio/calls_page.json"), 6),
    ("twilio", "API JSON pages appended, one per line", sample("twilio/calls_pages.jsonl"), 6),
    ("freeswitch", "cdr_csv Master.csv", sample("freeswitch/Master.csv"), 6),
    ("zendesk", "incremental page with side-loads", sample("zendesk/incremental_tickets.json"), 3),
    ("zendesk", "tickets as JSON lines, versions of one ticket", sample("zendesk/tickets.jsonl"), 3),
    ("zendesk", "Talk calls page", sample("zendesk/talk_calls.json"), 3),
    ("zendesk", "CSV export", sample("zendesk/tickets_export.csv"), 3),
    ("zendesk", "time-based page of 1,000 tickets (1.5 MB, one line)", zendesk_page(1000, cursor=False), 1000),
    ("zendesk", "cursor page of 3 tickets", zendesk_page(3, cursor=True), 3),
    ("zendesk", "cursor page of 200 tickets, pretty-printed", zendesk_page(200, cursor=True, indent=2), 200),
    ("freshdesk", "ticket export", sample("freshdesk/tickets.csv"), 6),
    ("freshdesk", "ticket export with an extra vendor column", rewritten("freshdesk/tickets.csv", extra_column), 6),
    ("servicenow", "event log (versions of one incident)", sample("servicenow/incident_event_log.csv"), 4),
    ("servicenow", "list export with labels", sample("servicenow/incident_list.csv"), 4),
    ("servicenow", "list export, display values, no sys_mod_count, 500 rows",
     lambda tmp: list_export(tmp / "incident.csv", rows=500), 495),
    ("servicenow", "list export without Updates (sys_mod_count)",
     rewritten("servicenow/incident_list.csv", without("Updates")), 4),
    ("jsonl", "canonical JSON lines", sample("jsonl/contacts.jsonl"), 4),
    ("csv", "canonical CSV", sample("csv/canonical.csv"), 2),
    ("csv", "old and new timestamp layouts", sample("csv/timestamps.csv"), 6),
    ("csv", "Latin-1 with CRLF", sample("csv/latin1_crlf.csv"), 2),
]


@pytest.mark.parametrize(("source", "variant", "build", "imported"), VARIANTS,
                         ids=[f"{s}: {v}" for s, v, _, _ in VARIANTS])
def test_corpus(source, variant, build, imported, tmp_path, run_import):
    s = run_import(build(tmp_path), source=None if source not in ("jsonl", "csv") else source)
    assert s.source == source
    assert s.read == s.imported + s.rejected + s.folded + s.duplicates + s.conflicts + s.skipped
    if source not in ("jsonl", "csv"):  # the generic samples hold a conflict on purpose
        assert s.conflicts == 0
    assert s.imported == imported, (s.read, s.imported, s.rejected, s.folded, s.duplicates, s.skipped)
