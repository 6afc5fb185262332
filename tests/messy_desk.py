"""A desk of messy identities, with the truth about who is who (imports nothing from recontact).

Sixty people call and write in; each has a US number (written many ways), some a second, foreign
number (GB, DE, FR, AU), an e-mail address in varying case, an account id. Around them, the mess a
real desk exports: placeholders in every column (written from the issue, independently of the
code: ``PLACEHOLDERS``), a switchboard number and a shared mailbox seen beside many people, a
family number shared by two people, and contacts split over several import batches with
different header spellings.

Every contact carries its true person (or None). ``expected_monthly`` counts, per person and
calendar month (UTC), the inbound contacts that carry an identifier of that person's own.
"""

from __future__ import annotations

import csv
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

#: Values that identify no one, from the issue's list (any case, spacing, punctuation).
PLACEHOLDER_PHONES = ("Private Number", "Anonymous Caller", "sip:anonymous@anonymous.invalid", "+1 000 000 0000",
                      "555-555-5555", "UNKNOWN", "restricted", "Blocked", "No Caller ID", "out-of-area",
                      "Unavailable", "withheld", "0000")
PLACEHOLDER_ACCOUNTS = ("0", "TBD", "?", "N/A", "-1", "none", "NULL", "test", "00000", "n.a.")
PLACEHOLDER_EMAILS = ("noemail@example.com", "none@none.com", "N/A", "unknown", "NoEmail@Company.org")
INVALID_PHONES = ("+1 212 055 0100", "(123) 456-7890", "+44 20 0000 000")

SWITCHBOARD = "+1 (212) 555-0100"  # reception forwards for many people: a hub
MAILBOX = "frontdesk@example.com"  # a shared mailbox: a hub
FAMILY = "617-555-0199"  # a number two people share: joins them until it is deny-listed

FOREIGN = ("+44 20 7946 0{n:03d}", "+49 30 901820{n:02d}", "+33 1 42 68 5{n:03d}", "+61 2 9374 4{n:03d}")
US_SPELLINGS = ("({a}) 555-{l:04d}", "{a}-555-{l:04d}", "+1 {a} 555 {l:04d}", "1{a}555{l:04d}", "{a}.555.{l:04d}",
                "+1-{a}-555-{l:04d}")


@dataclass
class Person:
    number: int
    area: int
    line: int
    foreign: str | None
    email: str | None
    account: str | None

    @property
    def e164(self) -> str:
        return f"+1{self.area}555{self.line:04d}"


@dataclass
class Row:
    """One contact as written, with its true person (None: nobody) and whether it carries one of
    that person's own identifiers (else it only carries shared ones: a hub, the family number)."""

    contact_id: str
    started_at: datetime
    direction: str
    phone: str = ""
    email: str = ""
    account: str = ""
    person: int | None = None
    own: bool = True
    family: bool = False
    batch: int = 0
    extra: dict[str, str] = field(default_factory=dict)


def people(n: int = 60) -> list[Person]:
    out = []
    for i in range(n):
        area = (415, 212, 650, 303, 312, 206)[i % 6]
        email = f"person{i}@example.com" if i % 2 == 0 else None
        account = f"A-{1000 + i}" if i % 5 != 1 else None
        # A second number is only ever linked to the first through an e-mail or account.
        foreign = FOREIGN[i % 4].format(n=i) if i % 3 == 0 and (email or account) else None
        out.append(Person(i, area, 100 + i, foreign, email, account))
    return out


def spell(p: Person, rnd: random.Random) -> str:
    return rnd.choice(US_SPELLINGS).format(a=p.area, l=p.line)


def email_spelling(address: str, rnd: random.Random) -> str:
    return rnd.choice((address, address.upper(), f"  {address.title()} ", address.capitalize()))


def generate(seed: int = 7, n_people: int = 60, batches: int = 3) -> tuple[list[Person], list[Row]]:
    """The desk: every person's contacts over three months, plus noise rows."""
    rnd = random.Random(seed)
    folks = people(n_people)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows: list[Row] = []
    hub_people = rnd.sample([p for p in folks if p.email or p.account], 8)
    mailbox_people = rnd.sample([p for p in folks if p.account], 7)
    family = (folks[10], folks[12])
    for p in folks:
        for k in range(rnd.randint(2, 9)):
            when = start + timedelta(minutes=rnd.randrange(0, 89 * 24 * 60))
            row = Row(f"c{p.number}-{k}", when, rnd.choice(("inbound",) * 5 + ("outbound",)), person=p.number)
            choice = rnd.random()
            if choice < 0.45 or not (p.email or p.account or p.foreign):
                row.phone = spell(p, rnd)
            elif choice < 0.6 and p.foreign:
                row.phone = p.foreign
                row.email = email_spelling(p.email, rnd) if p.email else ""
            elif choice < 0.8 and p.email:
                row.email = email_spelling(p.email, rnd)
            elif p.account:
                row.account = p.account
            else:
                row.phone = spell(p, rnd)
            # The mess around the real identifier.
            if not row.account and rnd.random() < 0.3:
                row.account = rnd.choice(PLACEHOLDER_ACCOUNTS)
            if not row.email and rnd.random() < 0.2:
                row.email = rnd.choice(PLACEHOLDER_EMAILS)
            if not row.phone and rnd.random() < 0.3:
                row.phone = rnd.choice(PLACEHOLDER_PHONES + INVALID_PHONES)
            rows.append(row)
        # Each identifier seen once beside the others (the second number beside e-mail/account): links them.
        rows.append(Row(f"c{p.number}-link", start + timedelta(days=rnd.randrange(89)), "inbound",
                        phone=spell(p, rnd), account=p.account or "", email=p.email or "", person=p.number))
        if p.foreign:
            rows.append(Row(f"c{p.number}-link2", start + timedelta(days=rnd.randrange(89)), "inbound",
                            phone=p.foreign, account=p.account or "", email=p.email or "", person=p.number))
    for i, p in enumerate(hub_people):  # reception: the switchboard number with the person's own e-mail/account
        own = {"email": p.email} if p.email else {"account": p.account}
        for k in range(2):
            rows.append(Row(f"sw{i}-{k}", start + timedelta(days=3 + 9 * k + i), "inbound", phone=SWITCHBOARD,
                            email=own.get("email", ""), account=own.get("account", ""), person=p.number))
    for i in range(5):  # the switchboard alone: nobody
        rows.append(Row(f"swonly{i}", start + timedelta(days=20 + i), "inbound", phone=SWITCHBOARD, person=None,
                        own=False))
    for i, p in enumerate(mailbox_people):
        rows.append(Row(f"mb{i}", start + timedelta(days=5 + 11 * i % 80), "inbound", email=MAILBOX,
                        account=p.account or "", person=p.number))
    for i in range(20):  # placeholders only: nobody
        rows.append(Row(f"anon{i}", start + timedelta(hours=7 * i + 1), "inbound",
                        phone=rnd.choice(PLACEHOLDER_PHONES), account=rnd.choice(PLACEHOLDER_ACCOUNTS),
                        email=rnd.choice(PLACEHOLDER_EMAILS), person=None, own=False))
    a, b = family
    rows.append(Row("fam-a", start + timedelta(days=40), "inbound", phone=FAMILY, email=a.email or "",
                    account=a.account or "", person=a.number, family=True))
    rows.append(Row("fam-b", start + timedelta(days=41), "inbound", phone=FAMILY, email=b.email or "",
                    account=b.account or "", person=b.number, family=True))
    rows.append(Row("fam-only", start + timedelta(days=60), "inbound", phone=FAMILY, person=None, own=False,
                    family=True))
    rnd.shuffle(rows)
    for i, row in enumerate(rows):
        row.batch = i % batches
    return folks, rows


#: Header spellings per batch: the same fields under the names different systems give them.
HEADERS = (
    {"contact_id": "contact_id", "started_at": "started_at", "direction": "direction", "phone": "phone",
     "email": "email", "account": "account_id"},
    {"contact_id": "Contact ID", "started_at": "Start Time", "direction": "Direction", "phone": "Caller ID",
     "email": "E-Mail", "account": "CustomerID"},
    {"contact_id": "CONTACT-ID", "started_at": "Started_At", "direction": "DIRECTION", "phone": "Phone",
     "email": "EMAIL", "account": "Account_ID"},
)


def write_batches(folder: Path, rows: list[Row], batches: int = 3) -> list[Path]:
    """One CSV per batch, each with its own header spelling; ``family`` rows go in the last batch."""
    paths = []
    for b in range(batches):
        names = HEADERS[b % len(HEADERS)]
        path = folder / f"batch{b}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow([names[k] for k in ("contact_id", "started_at", "direction", "phone", "email", "account")])
            for r in rows:
                if (r.batch % batches if not r.family else batches - 1) == b:
                    w.writerow([r.contact_id, r.started_at.isoformat(), r.direction, r.phone, r.email, r.account])
        paths.append(path)
    return paths


def expected_monthly(rows: list[Row], *, family_joined: bool) -> Counter[tuple[frozenset[int], str]]:
    """(true people behind one key, "YYYY-MM") -> inbound contacts. While the family number is not
    deny-listed, the two people sharing it are one key (identifiers seen together are one person),
    and a contact with only the family number counts for them."""
    fam = frozenset(r.person for r in rows if r.family and r.person is not None)
    out: Counter[tuple[frozenset[int], str]] = Counter()
    for r in rows:
        if r.direction != "inbound":
            continue
        if r.person is not None and r.own:
            who = fam if family_joined and r.person in fam else frozenset({r.person})
        elif r.family and family_joined:
            who = fam
        else:
            continue
        out[(who, r.started_at.strftime("%Y-%m"))] += 1
    return out
