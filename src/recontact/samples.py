"""Synthetic help-desk contacts: deterministic, fast, and messy on purpose.

Contract:

* ``generate_contacts(n, seed=..)`` yields exactly ``n`` dicts keyed by :data:`CSV_COLUMNS`, all values
  ``str`` (empty string = missing), in non-decreasing ``started_at`` order; the same arguments always
  give the same rows. ``write_csv`` writes the same rows as a UTF-8 CSV (comma, header, LF, no quoting:
  values never hold commas, quotes or newlines) and returns the number of rows written.
* ``started_at`` is ISO 8601 local time of ``tz`` with its UTC offset at that instant (DST-correct),
  between 07:00 and 21:00 local, mostly 08:00-18:00 on weekdays. Only the calendar date of ``start``
  (default 2026-01-05) is used; ``days`` defaults to ``clamp(ceil(n / 1000), 28, 364)``.
* Customers: ``max(200, n // 2)`` of them; ~15 % of contacts come from a Zipf-like head (top 1 %),
  the rest uniformly from the others, so most callers call once or twice and a few call tens to
  hundreds of times. About 1 % of contacts open a "chronic" burst: 2-7 follow-ups by the same
  customer in the same category over the next days, often on the same ticket.
* Identifiers are messy: one phone in many formats, e-mails in random case with stray spaces,
  ~3 % of inbound calls withheld (``anonymous``, ``0000000000``, ...) with no other identifier,
  one customer in 8 writes their company's switchboard (:data:`SWITCHBOARDS`, a shared line)
  beside their e-mail on e-mail contacts,
  ~2 % outbound contacts, booleans mostly ``true``/``false`` with some ``yes``/``Y``/``1`` forms.
* Sizes: ``clamp(n // 5000, 20, 2000)`` agents (``A0042``) in teams (``team-07``) that each serve one
  queue; ticket ids ``T0012345`` on ~90 % of contacts (none on abandoned calls). Memory grows with
  the rows of one day (rows are produced a day at a time), not with ``n``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

CSV_COLUMNS: tuple[str, ...] = (
    "contact_id", "started_at", "channel", "direction", "phone", "email", "account_id", "customer_name",
    "agent_id", "team", "queue", "category", "ticket_id", "wait_s", "talk_s", "hold_s", "wrap_s",
    "answered", "abandoned", "resolved", "escalated", "truck_roll", "csat", "tags",
)
CATEGORIES: tuple[str, ...] = (
    "password-reset", "billing-dispute", "outage", "hardware", "slow-connection", "login", "refund",
    "how-to", "modem", "account-change",
)
_CAT_W = (12, 9, 10, 7, 12, 9, 6, 14, 11, 10)
_CAT_QUEUE = ("general", "billing", "tech", "tech", "tech", "general", "billing", "general", "tech", "sales")
_QUEUE_CYCLE = ("tech", "billing", "general", "sales", "tech", "billing", "tech", "general")
WITHHELD_IDS: tuple[str, ...] = (
    "anonymous", "Restricted", "PRIVATE", "unknown", "Unavailable", "", "0000000000",
)
_AREAS = (
    "212", "718", "917", "646", "312", "773", "415", "510", "650", "408", "617", "781", "713", "281",
    "832", "214", "469", "404", "305", "786", "206", "425", "602", "480", "303", "720", "202", "215",
    "313", "612", "503", "702",
)
_FIRST = (
    "ann", "bob", "carlos", "dana", "eve", "farah", "george", "hana", "ivan", "julia", "kofi", "lena",
    "mike", "nora", "omar", "priya", "quinn", "rosa", "sam", "tara", "uma", "victor", "wei", "xena",
    "yusuf", "zoe", "alex", "bianca", "chen", "diego", "emma", "felix",
)
_LAST = (
    "lee", "smith", "garcia", "nguyen", "patel", "kim", "brown", "lopez", "khan", "cohen", "rossi",
    "muller", "silva", "jones", "davis", "wong", "ali", "martin", "clark", "walker", "young", "hall",
    "allen", "king", "wright", "scott", "green", "baker", "adams", "nelson", "hill", "carter",
)
_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")
#: Shared lines: the switchboards of two companies. A customer of one (one in 8) writes it beside
#: their e-mail on their e-mail contacts, so a desk of any size has a shared line next to e-mails;
#: past a handful of people behind one, it is a hub and joins no one.
SWITCHBOARDS = ("(212) 555-0100", "+1 312 555 0100")
# (channel, direction) kinds and their per-mille shares; 2 % outbound overall.
_KINDS = (("phone", "inbound"), ("phone", "outbound"), ("email", "inbound"), ("email", "outbound"),
          ("chat", "inbound"), ("web", "inbound"), ("walk-in", "inbound"))
_KIND_W = (634, 16, 146, 4, 120, 60, 20)
_HOURS_WD = {7: 3, 8: 9, 9: 13, 10: 14, 11: 13, 12: 10, 13: 12, 14: 12, 15: 11, 16: 10, 17: 7, 18: 2, 19: 1}
_HOURS_WE = {9: 6, 10: 9, 11: 10, 12: 10, 13: 9, 14: 8, 15: 7, 16: 5, 17: 2, 20: 1}
_DAY_W = (1.15, 1.05, 1.0, 0.97, 0.9, 0.12, 0.06)  # Monday .. Sunday
_POOL = 8192  # pre-rendered (kind, outcome) draws
_BATCH = 50_000
_P_HEAD, _HEAD_EXP, _P_BURST, _P_WITHHELD = 0.15, 1.3, 0.01, 0.03


def _bool(rng: random.Random, v: bool) -> str:
    if rng.random() < 0.97:
        return "true" if v else "false"
    return rng.choice((("yes", "no"), ("Y", "N"), ("1", "0")))[0 if v else 1]


def _outcome(rng: random.Random, kind: int, unresolved: bool) -> tuple[bool, str]:
    """One rendered ``wait_s..tags`` tail for ``kind``; returns (abandoned, tail)."""
    r = rng.random
    lognorm = rng.lognormvariate
    abandoned = kind == 0 and r() < 0.06
    answered = not abandoned and not (kind == 1 and r() < 0.25)
    wait = ""
    if kind in (0, 4, 6):  # queued channels: inbound phone, chat, walk-in
        mean = {0: 70.0 if abandoned else 40.0, 4: 25.0, 6: 240.0}[kind]
        w = rng.expovariate(1 / mean) + (rng.uniform(120, 900) if r() < 0.05 else 0)
        wait = str(int(w))
    elif kind == 1:
        wait = "0"
    talk_mean = (300, 200, 240, 240, 420, 180, 600)[kind]
    talk = int(lognorm(math.log(talk_mean) - 0.32, 0.8)) + 1 if answered else 0
    hold = int(rng.expovariate(1 / 60)) if answered and kind in (0, 1, 4) and r() < 0.35 else 0
    wrap = 0 if abandoned else rng.randint(30, 120) if answered else rng.randint(5, 30)
    res = answered and not unresolved and r() < 0.75
    esc = answered and r() < (0.03 if res else 0.2)
    truck = answered and r() < 0.02
    csat = ""
    if answered and r() < 0.3:
        csat = str(rng.choices((1, 2, 3, 4, 5), (7, 5, 10, 28, 50) if res else (35, 20, 20, 15, 10))[0])
    tags = [t for t, p in (("thank-you", 0.07 if res else 0.0), ("feature-request", 0.02),
                           ("complaint", 0.0 if res else 0.12)) if p and r() < p]
    b = [_bool(rng, v) for v in (answered, abandoned, res, esc, truck)]
    return abandoned, ",".join([wait, str(talk), str(hold), str(wrap), *b, csat, "|".join(tags)])


def _lines(n: int, seed: int, start: datetime | None, days: int | None, tz: str) -> Iterator[list[str]]:
    """Yield the CSV lines (LF-terminated, no header) day by day, ``n`` in total."""
    rng = random.Random(seed)
    rand, bits = rng.random, rng.getrandbits
    zone = ZoneInfo(tz)
    first = date(2026, 1, 5) if start is None else (start.astimezone(zone) if start.tzinfo else start).date()
    ndays = days if days is not None else min(364, max(28, math.ceil(n / 1000)))
    if ndays < 1 or n < 0:
        raise ValueError("need n >= 0 and days >= 1")
    # Per-day volumes: weekday shape, noise, a few spike (outage) days; largest remainder to sum to n.
    dates = [first + timedelta(d) for d in range(ndays)]
    spikes = [rand() < 0.03 for _ in dates]
    w = [_DAY_W[d.weekday()] * rng.uniform(0.85, 1.15) * (1.6 if s else 1.0)
         for d, s in zip(dates, spikes, strict=True)]
    total = sum(w)
    raw = [n * x / total for x in w]
    counts = [int(x) for x in raw]
    for i in sorted(range(ndays), key=lambda i: counts[i] - raw[i])[: n - sum(counts)]:
        counts[i] += 1
    sod = {}
    for we, prof in ((False, _HOURS_WD), (True, _HOURS_WE)):
        hrs = list(prof)
        sod[we] = [h * 3600 + int(rand() * 3600) for h in rng.choices(hrs, [prof[h] for h in hrs], k=1 << 16)]
    # Pre-rendered (kind, abandoned, tail) draws; unresolved ones for bursts; follow-ups are kind 0, 2, 4.
    mix = [(k, *_outcome(rng, k, False)) for k in rng.choices(range(7), _KIND_W, k=_POOL)]
    pools = {k: [_outcome(rng, k, False) for _ in range(512)] for k in (0, 2, 4)}
    unres = {k: [_outcome(rng, k, True) for _ in range(512)] for k in range(7)}
    # Agents: teams of ~10, each team serving one queue; per-category tables of "agent,team,queue".
    n_agents = min(2000, max(20, n // 5000))
    n_teams = max(4, round(n_agents / 10))
    by_queue: dict[str, list[str]] = {}
    for a in range(n_agents):
        t = a % n_teams
        q = _QUEUE_CYCLE[t % len(_QUEUE_CYCLE)]
        by_queue.setdefault(q, []).append(f"A{a + 1:04d},team-{t + 1:02d},{q}")
    agent_tab: list[list[str]] = []
    for q in _CAT_QUEUE:  # per category: 1024 draws of "agent,team,queue", some agents busier
        ag = by_queue[q]
        agent_tab.append(rng.choices(ag, [rng.uniform(0.5, 1.5) for _ in ag], k=1024))
    # Customers: attributes derived from the rank by tabulation hashing (no per-customer storage).
    n_cust = max(200, n // 2)
    n_head = max(2, n_cust // 100)
    t0 = [bits(64) for _ in range(1 << 16)]
    t1 = [bits(64) for _ in range(1 << 16)]
    exch = rng.choices([str(e) for e in range(200, 1000) if e % 100 != 11 and e != 555], k=1024)
    lines4 = [f"{i:04d}" for i in range(10000)]
    names = [(f, la) for f in _FIRST for la in _LAST]
    full = [f"{f.title()} {la.title()}" for f, la in names]
    loc = [f"{f}.{la}" for f, la in names]
    loc_t = [f"{f.title()}.{la.title()}" for f, la in names]
    acc_off = bits(30)
    inv_head, tail_scale = 1 / _P_HEAD, (n_cust - n_head) / (1 - _P_HEAD)

    def phone(h: int) -> str:
        """The customer's number in one of seven common spellings."""
        a, x, ln = _AREAS[h & 31], exch[(h >> 5) & 1023], lines4[(h >> 15) % 10000]
        r = rand()
        if r < 0.30:
            return f"({a}) {x}-{ln}"
        if r < 0.55:
            return f"{a}-{x}-{ln}"
        if r < 0.65:
            return f"{a}.{x}.{ln}"
        if r < 0.75:
            return f"+1 {a} {x} {ln}"
        if r < 0.85:
            return f"1{a}{x}{ln}"
        return f"+1{a}{x}{ln}" if r < 0.95 else f"{a}{x}{ln}"

    def email(h: int, no: int) -> str:
        """first.last<no>@domain, in random case, now and then with stray spaces."""
        i, dom = (h >> 32) & 1023, _DOMAINS[(h >> 47) & 3]
        r = rand()
        if r < 0.70:
            return f"{loc[i]}{no}@{dom}"
        e = f"{loc_t[i]}{no}@{dom.title() if r < 0.8 else dom}" if r < 0.9 else f"{loc[i]}{no}@{dom}".upper()
        return e if r < 0.95 else ("  " if r < 0.98 else " ") + e + " "

    pending: dict[int, list[tuple[int, int, str, bool]]] = {}
    cid = ticket = 0
    norm_cats = rng.choices(range(10), _CAT_W, k=256)
    outage_cats = rng.choices(range(10), [x * (6 if i == 2 else 1) for i, x in enumerate(_CAT_W)], k=256)
    kstr = [f"{c},{dr}" for c, dr in _KINDS]
    hms = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400)]
    for d, (day, k) in enumerate(zip(dates, counts, strict=True)):
        offs = []
        for hour in range(24):  # UTC offset per local hour of this day (differs only on DST days)
            off = datetime(day.year, day.month, day.day, hour, tzinfo=zone).utcoffset() or timedelta(0)
            m = int(off.total_seconds()) // 60
            offs.append(f"{'-' if m < 0 else '+'}{abs(m) // 60:02d}:{abs(m) % 60:02d}")
        dst_day, off12 = len(set(offs)) > 1, offs[12]
        prefix = f"{day.isoformat()}T"
        table = sod[day.weekday() >= 5]
        secs = sorted([table[bits(16)] for _ in range(k)])
        cats = outage_cats if spikes[d] else norm_cats
        follow = pending.pop(d, [])
        if len(follow) > k // 2:  # never more than half a day's slots; the rest slip a day
            pending.setdefault(d + 1, []).extend(follow[k // 2:])
            follow = follow[: k // 2]
        fpos = dict(zip(rng.sample(range(k), len(follow)), follow, strict=True)) if follow else {}
        out: list[str] = []
        for j, s in enumerate(secs):
            cid += 1
            fu = fpos.get(j) if fpos else None
            if fu is None:
                u = rand()
                if u < _P_HEAD:  # Zipf-like head: the top 1 % of customers
                    rank = int(n_head * (u * inv_head) ** _HEAD_EXP)
                else:
                    rank = n_head + int((u - _P_HEAD) * tail_scale)
                h = t0[rank & 0xFFFF] ^ t1[rank >> 16]
                kind, abandoned, tail = mix[bits(13)]
                cat = (h >> 49) % 10 if rand() < 0.35 else cats[bits(8)]
                tk = ""
                if rand() < _P_BURST:  # chronic: schedule 2-7 follow-ups over the next days
                    ticket += 1
                    tk, at = f"T{ticket:07d}", d
                    m = rng.randint(2, 7)
                    for i in range(m):
                        at += rng.choice((1, 1, 2)) if i == 0 else rng.choice((0, 1, 1, 1, 2))
                        pending.setdefault(at, []).append((rank, cat, tk if rand() < 0.6 else "", i == m - 1))
                    abandoned, tail = unres[kind][bits(9)]
            else:
                rank, cat, tk, last = fu
                h = t0[rank & 0xFFFF] ^ t1[rank >> 16]
                kind = (0, 0, 0, 0, 0, 0, 0, 0, 2, 4)[bits(10) % 10]
                abandoned, tail = (pools if last else unres)[kind][bits(9)]
            has_acc = (h >> 45) & 3  # 75 % have an account; all others have an e-mail
            no = (rank * 2147483647 + acc_off) % n_cust + 1  # account number, unique per customer
            if kind == 0:  # inbound call: the caller id, sometimes the account the agent looked up
                if rand() < _P_WITHHELD:
                    ident = f"{WITHHELD_IDS[bits(10) % 7]},,,"
                elif has_acc and rand() < 0.2:
                    ident = f"{phone(h)},,ACC-{no:06d},"
                else:
                    ident = f"{phone(h)},,,"
            else:
                acc = f"ACC-{no:06d}" if has_acc else ""
                has_mail = (h >> 42) & 7 or not acc
                if kind == 2 or kind == 3:
                    # (h >> 36) & 7: the customer, not a draw, so the rest of the desk stays as it was
                    line = SWITCHBOARDS[(h >> 20) & 1] if has_mail and not (h >> 36) & 7 else ""
                    ident = f"{line},{email(h, no)},{acc if rand() < 0.3 else ''}," if has_mail else f",,{acc},"
                elif kind == 1:
                    ident = f"{phone(h)},,{acc},{full[(h >> 32) & 1023]}"
                elif kind == 6:
                    ident = f"{'' if acc else phone(h)},,{acc},{full[(h >> 32) & 1023]}"
                elif has_mail and acc:
                    r = rand()
                    ident = f",{email(h, no)},{acc if r < 0.5 else ''}," if r < 0.75 else f",,{acc},"
                else:
                    ident = f",{email(h, no)},," if has_mail else f",,{acc},"
            if abandoned:
                agent, tk = ",," + _CAT_QUEUE[cat], ""
            else:
                agent = agent_tab[cat][bits(10)]
                if not tk and rand() < 0.92:
                    ticket += 1
                    tk = f"T{ticket:07d}"
            out.append(f"C{cid:08d},{prefix}{hms[s]}{offs[s // 3600] if dst_day else off12},{kstr[kind]},"
                       f"{ident},{agent},{CATEGORIES[cat]},{tk},{tail}\n")
        yield out


def generate_contacts(
    n: int, *, seed: int = 7, start: datetime | None = None, days: int | None = None,
    tz: str = "America/New_York",
) -> Iterator[dict[str, str]]:
    """Yield ``n`` synthetic contacts as ``{column: str}`` dicts in time order (see module doc)."""
    for chunk in _lines(n, seed, start, days, tz):
        for line in chunk:
            yield dict(zip(CSV_COLUMNS, line[:-1].split(","), strict=True))


def write_csv(
    path: Path, n: int, *, seed: int = 7, progress: Callable[[int], None] | None = None,
    start: datetime | None = None, days: int | None = None, tz: str = "America/New_York",
) -> int:
    """Write ``n`` contacts to ``path`` as CSV with header :data:`CSV_COLUMNS`; return rows written.

    ``progress(k)`` gets the rows written since its last call, about every 50,000 rows and at the end.
    """
    written = since = 0
    buf: list[str] = []
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(CSV_COLUMNS) + "\n")
        for chunk in _lines(n, seed, start, days, tz):
            buf += chunk
            if len(buf) >= _BATCH:
                f.write("".join(buf))
                written += len(buf)
                since += len(buf)
                buf.clear()
                if progress is not None:
                    progress(since)
                    since = 0
        f.write("".join(buf))
        written += len(buf)
        since += len(buf)
    if progress is not None and since:
        progress(since)
    return written
