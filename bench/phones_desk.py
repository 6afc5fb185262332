"""A second generated desk for the bench, of another shape than ``recontact.samples``: 200,000
customers, each phone written in up to six spellings, e-mails in mixed case, 13 columns.

One year (364 days from 2026-01-05, America/New_York), heavy-tailed callers (a customer's weight
is 1/rank^0.9), 85% of contacts by phone, the rest by e-mail; a quarter of callers have both, so
identity resolution joins spellings and addresses. A few callers come back within days (chronic
callers for the default rules). Deterministic for a seed.

Usage: ``python bench/phones_desk.py OUT.csv N [SEED]``.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

CUSTOMERS = 200_000
HEADER = ["contact_id", "started_at", "channel", "direction", "phone", "email", "account_id", "customer_name",
          "agent_id", "queue", "category", "talk_s", "resolved"]
CATEGORIES = ("billing", "login", "outage", "hardware", "shipping", "refund", "plan-change", "password-reset")
QUEUES = ("general", "billing", "tech", "retention")
AREAS = (212, 312, 415, 617, 202, 305, 404, 503, 206, 713, 214, 602, 303, 702, 801, 612, 314, 816, 513, 216)
START = datetime(2026, 1, 5, tzinfo=ZoneInfo("America/New_York"))


def spellings(number: int) -> list[str]:
    """Six ways people and systems write one US number."""
    d = f"{number:010d}"
    a, b, c = d[:3], d[3:6], d[6:]
    return [f"+1{d}", f"({a}) {b}-{c}", f"{a}.{b}.{c}", d, f"1-{a}-{b}-{c}", f"+1 {a} {b} {c}"]


def mixed_case(address: str, rng: random.Random) -> str:
    local, _, domain = address.partition("@")
    return "".join(ch.upper() if rng.random() < 0.3 else ch for ch in local) + "@" + (
        domain.upper() if rng.random() < 0.2 else domain)


def write_csv(path: Path, n: int, seed: int = 13) -> Path:
    rng = random.Random(seed)
    weights = list(itertools.accumulate(1 / (rank + 1) ** 0.9 for rank in range(CUSTOMERS)))
    total = weights[-1]
    phones = [rng.choice(AREAS) * 10**7 + rng.randrange(200, 1000) * 10**4 + rng.randrange(10**4)
              for _ in range(CUSTOMERS)]
    kinds = [rng.random() for _ in range(CUSTOMERS)]  # < 0.75 phone only, < 0.9 both, else e-mail only
    spelled = [rng.randrange(1, 7) for _ in range(CUSTOMERS)]  # how many spellings this caller's lines use
    seconds = 364 * 86400
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(HEADER)
        i = 0
        while i < n:
            who = bisect.bisect_left(weights, rng.random() * total)
            at = START + timedelta(seconds=rng.randrange(seconds))
            category = rng.choice(CATEGORIES)
            burst = 1 + (rng.randrange(2, 7) if rng.random() < 0.02 else 0)  # a chronic spell: follow-ups
            for k in range(min(burst, n - i)):
                when = at + timedelta(hours=k * rng.randrange(6, 60))
                kind = kinds[who]
                by_phone = kind < 0.75 or (kind < 0.9 and rng.random() < 0.7)
                phone = rng.choice(spellings(phones[who])[:spelled[who]]) if by_phone else ""
                email = "" if by_phone and kind < 0.75 else mixed_case(f"customer{who}@example.com", rng)
                w.writerow([f"P{i + 1:09d}", when.isoformat(timespec="seconds"), "phone" if by_phone else "email",
                            "inbound", phone, email if not by_phone or rng.random() < 0.3 else "",
                            f"ACC-{who:06d}" if rng.random() < 0.1 else "", f"Customer {who}",
                            f"A{rng.randrange(120):04d}", rng.choice(QUEUES), category, rng.randrange(30, 1200),
                            "true" if rng.random() < 0.7 else "false"])
                i += 1
    return path


if __name__ == "__main__":
    write_csv(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 13)
