"""A brute-force reference for the caller metrics and rules of DESIGN.md, in plain Python.

Written from DESIGN.md ("Concepts": Customer, Rule, Flag; "Metric definitions": Top-N callers),
not from the implementation: no Ibis, no DuckDB, no ``recontact`` import. Every answer is found
the slow, obvious way (nested loops over all contacts) so that the store's answers can be checked
against it on small generated data sets.

The reference understands the contacts the tests generate: phone numbers are North American
(``+1 415 555 0101`` in any spelling) or withheld, e-mails are folded to lower case, account ids
are taken as they are.

Sections: the contact record; identity (who is which customer); trailing counts; flags; top
callers; writing contacts as a canonical CSV; Hypothesis strategies for generated contacts.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

# ---------------------------------------------------------------------------------------------
# The contact record
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    """One contact as a test writes it into a canonical CSV (``None`` = empty cell)."""

    contact_id: str
    started_at: datetime  # timezone-aware
    direction: str = "inbound"
    phone: str | None = None  # the caller id as written
    email: str | None = None
    account_id: str | None = None
    category: str | None = None
    channel: str | None = "phone"
    resolved: bool | None = None
    talk_s: float | None = None
    hold_s: float | None = None
    wrap_s: float | None = None
    offset: timedelta = timedelta(0)  # the UTC offset ``started_at`` is written with
    # Desk fields for FCR breakdowns, KPIs and feedback (written as canonical columns).
    agent_id: str | None = None
    team: str | None = None
    queue: str | None = None
    ticket_id: str | None = None
    wait_s: float | None = None
    answered: bool | None = None
    abandoned: bool | None = None
    escalated: bool | None = None
    truck_roll: bool | None = None
    csat: float | None = None
    tags: str | None = None

    @property
    def handle_s(self) -> float:
        """AHT parts: talk + hold + wrap, a missing part counting as 0."""
        return float((self.talk_s or 0) + (self.hold_s or 0) + (self.wrap_s or 0))


class RuleLike(Protocol):
    """What the reference reads from a rule (``recontact.rules.spec.Rule`` fits)."""

    name: str
    min_contacts: int
    window: timedelta
    same_category: bool
    channel: str | None
    unresolved_only: bool


Customer = frozenset[str]  # a customer, named by all of its ``kind:value`` identifiers

# ---------------------------------------------------------------------------------------------
# Identity: identifiers seen together on one record are the same customer
# ---------------------------------------------------------------------------------------------

_WITHHELD = {"", "anonymous", "anon", "restricted", "private", "unknown", "unavailable", "withheld",
             "blocked", "none", "null", "n/a", "na", "?", "-"}


def phone_identifier(raw: str | None) -> str | None:
    """``phone:+1NXXNXXXXXX`` for a North American number in any spelling; None when withheld
    (no caller id, a withheld word, all zeros). Anything else is outside what the reference knows."""
    if raw is None or raw.strip().lower() in _WITHHELD:
        return None
    digits = re.sub(r"\D", "", raw)
    if digits and set(digits) == {"0"}:
        return None
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        raise ValueError(f"the reference only knows North American numbers, not {raw!r}")
    return f"phone:+1{digits}"


def identifiers(contact: Contact, deny: Iterable[str] = ()) -> list[str]:
    """The ``kind:value`` identifiers on one contact, leaving out deny-listed ones."""
    out = [
        phone_identifier(contact.phone),
        f"email:{contact.email.strip().casefold()}" if contact.email and contact.email.strip() else None,
        f"account:{contact.account_id.strip()}" if contact.account_id and contact.account_id.strip()
        else None,
    ]
    denied = set(deny)
    return [i for i in out if i is not None and i not in denied]


def people(records: Iterable[Iterable[str]]) -> list[frozenset[str]]:
    """Customers from records (contacts' identifiers and directory rows alike): any two records
    sharing an identifier are one customer, in the order of their first records.

    Brute force: start with one group per record and merge any two groups sharing an identifier
    until nothing changes; a customer is then the set of identifiers of its group."""
    groups = [g for g in (set(r) for r in records) if g]
    if all(len(g) == 1 for g in groups):  # no record links two identifiers: each one is a customer
        return list(dict.fromkeys(frozenset(g) for g in groups))
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                if groups[i] & groups[j]:
                    groups[i] |= groups.pop(j)
                    merged = True
                    break
            if merged:
                break
    return [frozenset(g) for g in groups]


def groups_of(nodes: Iterable[str], links: Iterable[tuple[str, str]]) -> list[set[str]]:
    """Brute force: one set per node, merged while any link joins two sets."""
    groups = [{n} for n in sorted(set(nodes))]
    changed = True
    while changed:
        changed = False
        for a, b in links:
            ga = next((g for g in groups if a in g), None)
            gb = next((g for g in groups if b in g), None)
            if ga is not None and gb is not None and ga is not gb:
                ga |= gb
                groups.remove(gb)
                changed = True
    return groups


def hubs(links: Sequence[tuple[str, str]], excluded: set[str], max_links: int) -> set[str]:
    """The hubs (DESIGN.md, "Identifier hygiene": an identifier that would join more than a handful
    of otherwise separate people joins no one): identifiers with more than ``max_links`` neighbours
    whose neighbours span more than ``max_links`` people once every such candidate is left out (a
    neighbour that is itself a candidate counts as one more). ``excluded`` identifiers link nothing."""
    live = [(a, b) for a, b in links if a != b and a not in excluded and b not in excluded]
    nodes = {n for pair in live for n in pair}
    neighbours = {n: {b for a, b in live if a == n} | {a for a, b in live if b == n} for n in nodes}
    candidates = {n for n in nodes if len(neighbours[n]) > max_links}
    groups = groups_of(nodes - candidates, [(a, b) for a, b in live if not {a, b} & candidates])
    out = set()
    for c in candidates:
        spanned = {id(next(g for g in groups if x in g)) if x not in candidates else x for x in neighbours[c]}
        if len(spanned) > max_links:
            out.add(c)
    return out


def deny_identifiers(entries: Iterable[str]) -> list[str]:
    """The ``kind:value`` identifiers of deny-list entries (``[identity] deny_list`` spellings)."""
    return [i for entry in entries
            for i in identifiers(Contact("", datetime(2026, 1, 1, tzinfo=UTC),
                                         **{"email" if "@" in entry else "phone": entry}))]


def customers(contacts: Sequence[Contact], deny: Iterable[str] = (), max_links: int = 5) -> dict[str, Customer]:
    """contact_id -> customer, for every contact with an identifier that identifies someone (inbound
    or outbound alike). ``deny``: deny-listed identifiers; they and hubs (a shared line: more than
    ``max_links`` people behind it) identify and link no one, so a contact on a shared line counts
    for the other identifiers on it (docs/metrics.md, "Which contacts count") and a contact with
    nothing else is nobody's."""
    mine = {c.contact_id: identifiers(c, deny) for c in contacts}
    groups = resolved_people(list(mine.values()), max_links)
    return {cid: who for cid, ids in mine.items() if (who := whose(ids, groups)) is not None}


def resolved_people(records: Sequence[Sequence[str]], max_links: int = 5) -> list[Customer]:
    """:func:`people` of ``records`` (contacts' identifiers, directory rows) once the hubs among
    their identifiers (:func:`hubs`, over the pairs seen on one record) are left out: a hub joins
    and identifies no one."""
    links = [(a, b) for ids in records for i, a in enumerate(ids) for b in ids[i + 1:]]
    shared = hubs(links, set(), max_links)
    return people([i for i in ids if i not in shared] for ids in records)


def countable(contacts: Sequence[Contact], deny: Iterable[str] = (),
              max_links: int = 5) -> list[tuple[Contact, Customer]]:
    """The contacts rules and rankings count, with their customer: inbound contacts of an identified
    customer (:func:`customers`: a shared or deny-listed line beside an e-mail counts for the
    e-mail's owner). Outbound never counts; a withheld caller id, a deny-listed or a hub line with
    nothing else is no customer."""
    who = customers(contacts, deny, max_links)
    return [(c, who[c.contact_id]) for c in contacts if c.direction == "inbound" and c.contact_id in who]


# ---------------------------------------------------------------------------------------------
# Trailing counts: (t - W, t], half-open, on the contacts' own timestamps
# ---------------------------------------------------------------------------------------------


def in_window(s: datetime, t: datetime, window: timedelta) -> bool:
    """True when a contact at ``s`` is inside the trailing window ``(t - W, t]`` of one at ``t``."""
    return t - window < s <= t


def trailing_counts(contacts: Sequence[Contact], window: timedelta, same_category: bool = False,
                    deny: Iterable[str] = (),
                    where: Callable[[Contact], bool] | None = None) -> dict[str, int]:
    """contact_id -> how many countable contacts of the same customer (and, when ``same_category``,
    the same category) started in ``(t - W, t]``, the contact itself and every contact at the same
    instant included. With ``same_category``, contacts without a category are not counted.
    ``where`` narrows the contacts counted (a rule's channel / unresolved-only); identities are
    still resolved on all ``contacts``."""
    kept = [(c, who) for c, who in countable(contacts, deny) if where is None or where(c)]
    if same_category:
        kept = [(c, who) for c, who in kept if c.category is not None]
    out: dict[str, int] = {}
    for c, who in kept:
        out[c.contact_id] = sum(
            1 for d, other in kept
            if other == who and (not same_category or d.category == c.category)
            and in_window(d.started_at, c.started_at, window)
        )
    return out


# ---------------------------------------------------------------------------------------------
# Flags: episodes. Per rule and customer (and category), a flag opens when the trailing count
# reaches N and closes at the first instant it is below N again.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    rule: str
    customer: Customer
    crossed_at: datetime
    count: int
    contact_id: str
    category: str | None  # the category of a same-category rule's flag; None for other rules
    closed_at: datetime | None  # None: still open at the latest contact in the store


def rule_filter(contact: Contact, rule: RuleLike) -> bool:
    """Whether a rule looks at a contact: its channel, and only unresolved ones (resolved is not
    True: false or unknown) when ``unresolved_only``."""
    if rule.channel is not None and contact.channel != rule.channel:
        return False
    return not (rule.unresolved_only and contact.resolved is True)


def count_in(times: Sequence[datetime], lo: datetime, hi: datetime, *, lo_open: bool, hi_open: bool) -> int:
    """How many of ``times`` lie between ``lo`` and ``hi`` (each end open or closed)."""
    return sum(1 for s in times if (lo < s if lo_open else lo <= s) and (s < hi if hi_open else s <= hi))


def episodes(times_ids: Sequence[tuple[datetime, str]], n: int, window: timedelta,
             latest: datetime) -> list[tuple[datetime, int, str, datetime | None]]:
    """The episodes of one customer's (one category's) counted contacts, from the definition:
    (crossed_at, count, contact_id, closed_at).

    c(t) = count in (t - W, t]; just before t it is the count in [t - W, t). An episode opens at a
    contact time t with c(t) >= N and the count in [t - W, t) < N, named by the smallest contact id
    at t. It closes at the first instant after t at which c < N. c only changes at contact times
    and at t_j + W, so every such instant is checked, in time order (contact times too, although c
    never drops there). closed_at is None when that instant is later than ``latest``."""
    times = [t for t, _ in times_ids]
    events = sorted(set(times) | {t + window for t in times})
    out = []
    for t in sorted(set(times)):
        now = count_in(times, t - window, t, lo_open=True, hi_open=False)
        before = count_in(times, t - window, t, lo_open=False, hi_open=True)
        if now >= n > before:
            closing = next(e for e in events if e > t
                           and count_in(times, e - window, e, lo_open=True, hi_open=False) < n)
            first = min(cid for s, cid in times_ids if s == t)
            out.append((t, now, first, closing if closing <= latest else None))
    return out


def flags(contacts: Sequence[Contact], rules: Sequence[RuleLike], deny: Iterable[str] = (),
          key_of: Mapping[Customer, Any] | None = None) -> list[Flag]:
    """Every rule's flag episodes over the countable contacts of each customer (per category for a
    same-category rule: contacts without a category are not counted there). ``latest`` is the
    latest contact of all ``contacts`` (any direction or customer). Ordered by crossing time, rule,
    customer (``key_of`` gives the store's customer key; default: the sorted identifiers), category."""
    deny = tuple(deny)
    latest = max(c.started_at for c in contacts)
    out: list[Flag] = []
    for rule in rules:
        groups: dict[tuple[Customer, str | None], list[tuple[datetime, str]]] = defaultdict(list)
        for c, who in countable(contacts, deny):
            if not rule_filter(c, rule) or (rule.same_category and c.category is None):
                continue
            groups[(who, c.category if rule.same_category else None)].append((c.started_at, c.contact_id))
        for (who, category), mine in groups.items():
            for crossed, count, contact_id, closed in episodes(mine, rule.min_contacts, rule.window, latest):
                out.append(Flag(rule.name, who, crossed, count, contact_id, category, closed))
    order = key_of if key_of is not None else {f.customer: sorted(f.customer) for f in out}
    return sorted(out, key=lambda f: (f.crossed_at, f.rule, order[f.customer], f.category or ""))


# ---------------------------------------------------------------------------------------------
# Top-N callers per ISO week / calendar month in the configured time zone
# ---------------------------------------------------------------------------------------------


def local_date(ts: datetime, tz: str) -> date:
    return ts.astimezone(ZoneInfo(tz)).date()


def period_label(day: date, period: str) -> str:
    """``2026-W03`` (ISO week, ISO year) or ``2026-01`` (calendar month) of a local date."""
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    raise ValueError(period)


@dataclass(frozen=True)
class Ranked:
    period: str
    rank: int
    customer: Customer
    contacts: int
    handle_s: float


def top_callers(contacts: Sequence[Contact], period: str, n: int, tz: str, deny: Iterable[str] = (),
                key_of: Mapping[Customer, Any] | None = None) -> list[Ranked]:
    """The ``n`` customers with the most countable contacts in each period (local date in ``tz``),
    ties by total handle time (more first), then by customer key (smaller first; ``key_of`` gives
    the store's key, default the sorted identifiers). Ordered by period, then rank."""
    totals: dict[tuple[str, Customer], list[float]] = defaultdict(lambda: [0, 0.0])
    for c, who in countable(contacts, deny):
        t = totals[(period_label(local_date(c.started_at, tz), period), who)]
        t[0] += 1
        t[1] += c.handle_s
    labels = sorted({label for label, _ in totals})
    out: list[Ranked] = []
    for label in labels:
        rows = [(who, int(cnt), float(h)) for (lab, who), (cnt, h) in totals.items() if lab == label]
        rows.sort(key=lambda r: (-r[1], -r[2], key_of[r[0]] if key_of is not None else sorted(r[0])))
        out += [Ranked(label, i + 1, who, cnt, h) for i, (who, cnt, h) in enumerate(rows[:n])]
    return out


# ---------------------------------------------------------------------------------------------
# Repeats and first-contact resolution (DESIGN.md, "Metric definitions")
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one countable contact is for FCR."""

    contact: Contact
    customer: Customer
    kind: str  # "issue" (issue-opening), "repeat" or "transfer"
    pending: bool = False  # issue whose follow-up window [t, t + W) reaches past the latest contact
    followed: bool = False  # issue with a repeat of its own in [t, t + W)
    resolved_first: bool = False  # counted issue, not followed, not marked unresolved


def fcr_outcomes(contacts: Sequence[Contact], window: timedelta, transfer_gap: timedelta = timedelta(0),
                 deny: Iterable[str] = ()) -> list[Outcome]:
    """Every countable contact's FCR outcome, by brute force.

    A contact's *previous* contact is the one just before it among the same customer's countable
    contacts of the same category (no category: the customer's other contacts without one), in
    order of time, then contact id: of two contacts at one instant the one with the smaller id is
    the previous of the other. A contact less than ``transfer_gap`` (when > 0) after its previous
    one is a transfer; else less than W after it, a repeat; else it opens an issue. An issue at t
    is followed when a repeat of the same customer and category comes after it (in that order)
    and before t + W; pending when t + W is after the latest contact of all ``contacts``;
    resolved first when neither, and ``resolved`` is not False."""
    latest = max(c.started_at for c in contacts)
    kept = countable(contacts, deny)

    def same_group(a: tuple[Contact, Customer], b: tuple[Contact, Customer]) -> bool:
        return a[1] == b[1] and a[0].category == b[0].category

    def order(c: Contact) -> tuple[datetime, str]:
        return (c.started_at, c.contact_id)

    kinds: dict[str, str] = {}
    for c, who in kept:
        earlier = [d for d, w in kept if same_group((d, w), (c, who)) and order(d) < order(c)]
        if not earlier:
            kinds[c.contact_id] = "issue"
            continue
        gap = c.started_at - max(earlier, key=order).started_at
        if timedelta(0) < transfer_gap and gap < transfer_gap:
            kinds[c.contact_id] = "transfer"
        elif gap < window:
            kinds[c.contact_id] = "repeat"
        else:
            kinds[c.contact_id] = "issue"
    out = []
    for c, who in kept:
        kind = kinds[c.contact_id]
        if kind != "issue":
            out.append(Outcome(c, who, kind))
            continue
        pending = c.started_at + window > latest
        followed = any(kinds[d.contact_id] == "repeat" and same_group((d, w), (c, who))
                       and order(c) < order(d) and d.started_at < c.started_at + window for d, w in kept)
        resolved_first = not pending and not followed and c.resolved is not False
        out.append(Outcome(c, who, kind, pending, followed, resolved_first))
    return out


def breakdown_key(contact: Contact, by: str | None, tz: str) -> str | None:
    """The row a contact is reported in: its local day / ISO week / month label, or its agent,
    team, queue, channel or category (None: no value); ``by`` None: the one row."""
    if by is None:
        return None
    if by in ("day", "week", "month"):
        day = local_date(contact.started_at, tz)
        return day.isoformat() if by == "day" else period_label(day, by)
    return getattr(contact, {"agent": "agent_id"}.get(by, by))


def rate(numerator: float, denominator: float) -> float | None:
    """numerator / denominator; None ("no data") when the denominator is 0."""
    return None if denominator == 0 else numerator / denominator


def _sorted_keys(keys: Iterable[str | None]) -> list[str | None]:
    """Keys in order, None last."""
    return sorted(set(keys), key=lambda k: (k is None, k or ""))


@dataclass(frozen=True)
class Ticket:
    first: Contact  # its first contact (time, then contact id): where the ticket is reported
    resolved: bool  # a contact of the ticket is marked resolved
    resolved_first: bool  # resolved, no contact after the first resolved one, at most one agent
    resolved_at: datetime | None = None  # its first contact marked resolved


def tickets(contacts: Sequence[Contact]) -> list[Ticket]:
    """Every ticket of ``contacts`` (any contact with a ticket id: any direction, identified or
    not). Reopened: a contact at a later instant than its first resolved contact. Reassigned: more
    than one agent on its contacts."""
    by_id: dict[str, list[Contact]] = defaultdict(list)
    for c in contacts:
        if c.ticket_id is not None:
            by_id[c.ticket_id].append(c)
    out = []
    for mine in by_id.values():
        first = min(mine, key=lambda c: (c.started_at, c.contact_id))
        resolved_at = [c.started_at for c in mine if c.resolved is True]
        reopened = bool(resolved_at) and any(c.started_at > min(resolved_at) for c in mine)
        reassigned = len({c.agent_id for c in mine if c.agent_id is not None}) > 1
        out.append(Ticket(first, bool(resolved_at), bool(resolved_at) and not reopened and not reassigned,
                          min(resolved_at) if resolved_at else None))
    return out


def fcr_rows(contacts: Sequence[Contact], window: timedelta, by: str | None = None, tz: str = "UTC",
             transfer_gap: timedelta = timedelta(0), deny: Iterable[str] = (),
             reported: Callable[[Contact], bool] | None = None) -> list[dict[str, Any]]:
    """FCR per breakdown key (each contact in the row of its own key; a ticket in the row of its
    first contact), keys in order (None last). ``reported`` picks the contacts (tickets: first
    contacts) reported; their outcomes still consider every contact. Per-ticket FCR beside it:
    resolved first / resolved tickets, and the gap ticket FCR - FCR."""
    outcomes = [o for o in fcr_outcomes(contacts, window, transfer_gap, deny)
                if reported is None or reported(o.contact)]
    shown = [t for t in tickets(contacts) if reported is None or reported(t.first)]
    keys = _sorted_keys([*(breakdown_key(o.contact, by, tz) for o in outcomes),
                         *(breakdown_key(t.first, by, tz) for t in shown)]) if by else [None]
    name = "period" if by in ("day", "week", "month") else by
    rows = []
    for key in keys:
        mine = [o for o in outcomes if breakdown_key(o.contact, by, tz) == key]
        issues = sum(1 for o in mine if o.kind == "issue" and not o.pending)
        resolved = sum(1 for o in mine if o.resolved_first)
        mine_t = [t for t in shown if breakdown_key(t.first, by, tz) == key]
        t_resolved = sum(1 for t in mine_t if t.resolved)
        t_first = sum(1 for t in mine_t if t.resolved_first)
        fcr, ticket_fcr = rate(resolved, issues), rate(t_first, t_resolved)
        rows.append({**({name: key} if name else {}), "issues": issues, "resolved_first": resolved,
                     "fcr": fcr, "pending": sum(1 for o in mine if o.pending),
                     "repeats": sum(1 for o in mine if o.kind == "repeat"),
                     "transfers": sum(1 for o in mine if o.kind == "transfer"),
                     "tickets": len(mine_t), "tickets_resolved": t_resolved, "tickets_resolved_first": t_first,
                     "ticket_fcr": ticket_fcr,
                     "fcr_gap": None if fcr is None or ticket_fcr is None else ticket_fcr - fcr})
    return rows


def repeat_driver_rows(contacts: Sequence[Contact], window: timedelta,
                       transfer_gap: timedelta = timedelta(0)) -> list[dict[str, Any]]:
    """Categories by repeat contacts (most first, then name; no category last among equals), with
    the share of their counted issues that had a repeat within W (needed more than one contact)."""
    outcomes = fcr_outcomes(contacts, window, transfer_gap)
    total = sum(1 for o in outcomes if o.kind == "repeat")
    rows = []
    for cat in _sorted_keys(o.contact.category for o in outcomes):
        mine = [o for o in outcomes if o.contact.category == cat]
        issues = [o for o in mine if o.kind == "issue" and not o.pending]
        repeats = sum(1 for o in mine if o.kind == "repeat")
        multi = sum(1 for o in issues if o.followed)
        pending = sum(1 for o in mine if o.pending)
        if repeats or issues or pending:
            rows.append({"category": cat, "repeats": repeats, "share_of_repeats": rate(repeats, total),
                         "issues": len(issues), "multi_contact": multi,
                         "multi_contact_share": rate(multi, len(issues)), "pending": pending})
    rows.sort(key=lambda r: (-r["repeats"], r["category"] is None, r["category"] or ""))
    return [{"rank": i + 1, **r} for i, r in enumerate(rows)]


# ---------------------------------------------------------------------------------------------
# Efficiency KPIs (DESIGN.md: AHT, ASA, ACW, abandonment, service level, escalation, truck roll)
# ---------------------------------------------------------------------------------------------


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile with linear interpolation between the two nearest values (None when empty)."""
    xs = sorted(values)
    if not xs:
        return None
    h = (len(xs) - 1) * q
    lo = int(h)
    return xs[lo] + (h - lo) * (xs[min(lo + 1, len(xs) - 1)] - xs[lo])


def kpi_rows(contacts: Sequence[Contact], by: Sequence[str] = (), tz: str = "UTC",
             service_seconds: float = 20.0, reported: Callable[[datetime], bool] | None = None) -> list[dict[str, Any]]:
    """The KPIs of every contact (identified or not), per breakdown key (keys in order, None last).

    Offered: inbound with answered or abandoned known. Answered: offered and answered, or answered
    unknown and not abandoned. Abandoned: offered and abandoned. Handled (any direction): answered,
    or answered unknown and not abandoned (unknown counts as not abandoned). ASA: mean wait of
    answered contacts that have one. AHT: mean talk + hold + wrap (missing as 0) of handled contacts
    with any of them; ACW: mean wrap of handled contacts with one. Abandonment and service level
    (answered with wait <= T) over offered; escalation and truck roll over handled contacts where
    they are known. Rates with nothing to divide by are None.

    Tickets (``tickets``): opened at their first contact (in its row), resolved at their first
    resolved contact (in the row of that instant's period and the first contact's other values);
    resolution time median and 90th percentile in seconds; backlog at the end of the row's period
    = tickets opened up to then - tickets resolved up to then (same other values); without a
    period, tickets never resolved. ``reported`` picks the instants reported (contacts, openings,
    resolutions); the backlog counts every ticket."""
    inside = reported or (lambda _: True)
    period = next((b for b in by if b in ("day", "week", "month")), None)

    def key(c: Contact, at: datetime | None = None) -> tuple[str | None, ...]:
        moved = c if at is None else Contact(c.contact_id, at, agent_id=c.agent_id, team=c.team, queue=c.queue,
                                             channel=c.channel, category=c.category)
        return tuple(breakdown_key(moved, b, tz) for b in by)

    shown = [c for c in contacts if inside(c.started_at)]
    every = tickets(contacts)
    opened = [t for t in every if inside(t.first.started_at)]
    resolved = [t for t in every if t.resolved_at is not None and inside(t.resolved_at)]
    keys = {key(c) for c in shown} | {key(t.first) for t in opened} | {key(t.first, t.resolved_at) for t in resolved}
    ordered = sorted(keys, key=lambda k: [(v is None, v or "") for v in k]) if by else [()]
    names = ["period" if b in ("day", "week", "month") else b for b in by]
    pos = by.index(period) if period else None

    def backlog(k: tuple[str | None, ...]) -> int:
        def counts(t: Ticket, at: datetime | None) -> bool:
            if at is None:
                return False
            other = key(t.first, at)
            if pos is None:
                return other == k
            rest_ok = other[:pos] + other[pos + 1:] == k[:pos] + k[pos + 1:]
            return rest_ok and (other[pos] or "") <= (k[pos] or "")
        return sum(counts(t, t.first.started_at) for t in every) - sum(counts(t, t.resolved_at) for t in every)

    rows = []
    for k in ordered:
        mine = [c for c in shown if key(c) == k]
        offered = [c for c in mine if c.direction == "inbound" and (c.answered is not None or c.abandoned is not None)]
        answered = [c for c in offered if c.answered is True or (c.answered is None and c.abandoned is False)]
        abandoned = [c for c in offered if c.abandoned is True]
        handled = [c for c in mine if c.answered is True or (c.answered is None and c.abandoned is not True)]
        timed = [c for c in handled if (c.talk_s, c.hold_s, c.wrap_s) != (None, None, None)]
        within = [c for c in answered if c.wait_s is not None and c.wait_s <= service_seconds]
        esc = [c for c in handled if c.escalated is not None]
        roll = [c for c in handled if c.truck_roll is not None]
        done = [(t.resolved_at - t.first.started_at).total_seconds() for t in resolved
                if t.resolved_at is not None and key(t.first, t.resolved_at) == k]
        rows.append({**dict(zip(names, k, strict=True)),
                     "contacts": len(mine), "inbound": sum(1 for c in mine if c.direction == "inbound"),
                     "outbound": sum(1 for c in mine if c.direction == "outbound"),
                     "offered": len(offered), "answered": len(answered), "abandoned": len(abandoned),
                     "abandonment": rate(len(abandoned), len(offered)),
                     "service_level": rate(len(within), len(offered)), "service_level_s": service_seconds,
                     "asa_s": _mean([c.wait_s for c in answered if c.wait_s is not None]),
                     "handled": len(handled), "aht_s": _mean([c.handle_s for c in timed]),
                     "acw_s": _mean([c.wrap_s for c in handled if c.wrap_s is not None]),
                     "escalation_rate": rate(sum(1 for c in esc if c.escalated), len(esc)),
                     "truck_roll_rate": rate(sum(1 for c in roll if c.truck_roll), len(roll)),
                     "tickets_opened": sum(1 for t in opened if key(t.first) == k), "tickets_resolved": len(done),
                     "resolution_median_s": quantile(done, 0.5), "resolution_p90_s": quantile(done, 0.9),
                     "backlog": backlog(k)})
    return rows


# ---------------------------------------------------------------------------------------------
# Feedback: CSAT and tags (thank-you, feature request, complaint)
# ---------------------------------------------------------------------------------------------


def feedback_tags(text: str | None) -> set[str]:
    """The feedback tags a contact's tags text carries: tags separated by ``|``, ``,`` or ``;``,
    compared case-folded with spaces and underscores as hyphens; ``thanks`` is a thank-you."""
    words = {re.sub(r"[ _]", "-", t.strip().casefold()) for t in re.split(r"[|,;]", text or "")}
    found = set()
    if words & {"thank-you", "thankyou", "thanks"}:
        found.add("thank_you")
    if words & {"feature-request", "featurerequest"}:
        found.add("feature_request")
    if "complaint" in words:
        found.add("complaint")
    return found


def feedback_rows(contacts: Sequence[Contact], by: Sequence[str] = (), tz: str = "UTC",
                  key_of: Mapping[Customer, Any] | None = None) -> list[dict[str, Any]]:
    """CSAT (average, distribution) and feedback tag counts of every contact per breakdown key;
    ``customer`` keys are the store's (``key_of``), None for unidentified contacts."""
    who = customers(contacts)

    def one(c: Contact, b: str) -> Any:
        if b != "customer":
            return breakdown_key(c, b, tz)
        return key_of[who[c.contact_id]] if key_of is not None and c.contact_id in who else None

    def key(c: Contact) -> tuple[Any, ...]:
        return tuple(one(c, b) for b in by)

    keys = sorted({key(c) for c in contacts}, key=lambda k: [(v is None, v or 0 if isinstance(v, int) else v or "")
                                                           for v in k])
    names = ["period" if b in ("day", "week", "month") else "customer_key" if b == "customer" else b for b in by]
    rows = []
    for k in keys:
        mine = [c for c in contacts if key(c) == k]
        scores = sorted(c.csat for c in mine if c.csat is not None)
        tags = [feedback_tags(c.tags) for c in mine]
        shown = [f"C{v}" if b == "customer" and v is not None else v for b, v in zip(by, k, strict=True)]
        rows.append({**dict(zip(names, shown, strict=True)), "contacts": len(mine), "rated": len(scores),
                     "csat_avg": _mean(scores),
                     "csat_distribution": {f"{s:g}": scores.count(s) for s in sorted(set(scores))},
                     "tagged": sum(1 for t in tags if t),
                     **{name: sum(1 for t in tags if name in t) for name in ("thank_you", "feature_request",
                                                                              "complaint")}})
    return rows


# ---------------------------------------------------------------------------------------------
# Canonical CSV
# ---------------------------------------------------------------------------------------------

CSV_HEADER = ("contact_id", "started_at", "direction", "phone", "email", "account_id", "category",
              "channel", "resolved", "talk_s", "hold_s", "wrap_s", "agent_id", "team", "queue", "ticket_id",
              "wait_s", "answered", "abandoned", "escalated", "truck_roll", "csat", "tags")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def write_csv(path: Path, contacts: Iterable[Contact]) -> Path:
    """Write contacts with canonical headers; times in ISO 8601 with each contact's own offset."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(CSV_HEADER)
        for c in contacts:
            started = c.started_at.astimezone(timezone(c.offset)).isoformat()
            w.writerow([c.contact_id, started, *(_cell(getattr(c, k)) for k in CSV_HEADER[2:])])
    return path


# ---------------------------------------------------------------------------------------------
# Hypothesis strategies: small contact sets on a coarse grid (ties and exact-boundary gaps)
# ---------------------------------------------------------------------------------------------

#: A few people; each writes a different number, e-mail and account on their records.
PEOPLE = (
    ("4155550101", "ann@example.com", "A-1"),
    ("2125550102", "bo@example.org", "A-2"),
    ("6175550103", "cy@example.net", "A-3"),
    ("3125550104", "di@example.com", "A-4"),
)
WITHHELD_IDS = ("anonymous", "Restricted", "", "0000000000", "UNKNOWN")
#: A shared office line some of PEOPLE call from, with their e-mail on the record: it joins them
#: (four people are within ``max_links``) unless it is deny-listed (``OFFICE_LINE`` in
#: ``deny_list``), when each such contact counts for its e-mail's owner.
OFFICE_LINE = "6465550100"
#: A switchboard: CROWD people (e-mail only otherwise) write it on their records. Past ``max_links``
#: (5) of them it is a hub and joins no one; with fewer it joins those who used it.
SWITCHBOARD = "7185550199"
CROWD = tuple(f"crowd{k}@example.com" for k in range(8))

#: UTC midnights to start from: month ends, DST switches (US 8 Mar / 1 Nov, UK 29 Mar / 25 Oct 2026)
#: and ISO week 53 of 2026 all fall within 60 days of one of them.
BASES = tuple(datetime(2026, m, d, tzinfo=UTC) for m, d in ((1, 20), (2, 20), (3, 1), (10, 10),
                                                                     (12, 10)))
#: UTC hours on the grid: London midnight (23, 0) and New York midnight (4, 5) among them.
HOURS = (0, 1, 4, 5, 12, 23)
OFFSETS = tuple(timedelta(minutes=m) for m in (0, -300, -240, 60, 330))
TIMEZONES = ("UTC", "America/New_York", "Europe/London")


def phone_spelling(digits: str, style: int) -> str:
    """The same North American number in one of several spellings."""
    a, b, c = digits[:3], digits[3:6], digits[6:]
    return (f"+1{digits}", f"({a}) {b}-{c}", f"{a}.{b}.{c}", f"1-{a}-{b}-{c}", f"+1 {a} {b} {c}",
            digits)[style % 6]


@st.composite
def contact_sets(draw: st.DrawFn, max_size: int = 30, grid: timedelta = timedelta(hours=1)) -> list[Contact]:
    """1..max_size contacts of a few people (and withheld callers) within 2 to 60 days."""
    base = draw(st.sampled_from(BASES))
    # Dense (2 days of grid slots: many ties and exact-W gaps) to sparse (60 days, month ends).
    span_days = draw(st.sampled_from((2, 7, 21, 60)))
    small = draw(st.sampled_from((True, False, False, False)))
    size = draw(st.integers(1, 4) if small else st.integers(max_size // 2, max_size))
    ids = draw(st.permutations(range(size)))  # contact ids in an order unrelated to time
    out = []
    crowd = draw(st.sampled_from((False, False, True)))  # a switchboard and its crowd in this set?
    for n in range(size):
        who = draw(st.sampled_from((0, 0, 1, 1, 2, 3, None, *(("crowd",) * 3 * crowd))))
        # How the record names its customer: phone, e-mail, account, two of them, a withheld id, or
        # the shared office line beside the e-mail.
        how = draw(st.sampled_from(("phone", "phone", "email", "account", "phone+email", "email+account",
                                    "withheld+email", "office+email")))
        phone = email = account = None
        if who is None:
            phone = draw(st.sampled_from(WITHHELD_IDS))
        elif who == "crowd":  # the switchboard beside one of its crowd's e-mails, or alone
            phone = phone_spelling(SWITCHBOARD, draw(st.integers(0, 5)))
            email = draw(st.sampled_from((*CROWD, None)))
        else:
            digits, mail, acct = PEOPLE[who]
            if "phone" in how:
                phone = phone_spelling(digits, draw(st.integers(0, 5)))
            if "withheld" in how:
                phone = draw(st.sampled_from(WITHHELD_IDS))
            if "office" in how:
                phone = phone_spelling(OFFICE_LINE, draw(st.integers(0, 5)))
            if "email" in how:
                email = draw(st.sampled_from((mail, mail.upper(), f" {mail.title()} ")))
            if "account" in how:
                account = acct
        day = draw(st.integers(0, span_days - 1))
        at = base + timedelta(days=day, hours=draw(st.sampled_from(HOURS)))
        if grid < timedelta(hours=1):
            at += grid * draw(st.integers(0, 3))
        out.append(Contact(
            contact_id=f"k{ids[n]:02d}",
            started_at=at,
            direction=draw(st.sampled_from(("inbound", "inbound", "inbound", "outbound"))),
            phone=phone, email=email, account_id=account,
            category=draw(st.sampled_from(("billing", "network", "billing", None))),
            channel=draw(st.sampled_from(("phone", "phone", "email", "chat"))),
            resolved=draw(st.sampled_from((True, False, None))),
            talk_s=draw(st.sampled_from((None, 0.0, 60.0, 120.0))),
            hold_s=draw(st.sampled_from((None, 0.0, 30.0))),
            wrap_s=draw(st.sampled_from((None, 0.0, 30.0, 90.0))),
            offset=draw(st.sampled_from(OFFSETS)),
        ))
    return out


@st.composite
def burst_sets(draw: st.DrawFn, max_bursts: int = 8) -> list[Contact]:
    """Bursts of contacts (3-8 within hours, many at one instant) by a few people in two or three
    categories, bursts days to weeks apart: flags that open, close and reopen under the default
    rules (5 within 30 days; 3 in one category within 7 days)."""
    base = draw(st.sampled_from(BASES))
    out: list[Contact] = []
    start = base
    for _ in range(draw(st.integers(1, max_bursts))):
        start += timedelta(days=draw(st.sampled_from((0, 3, 7, 14, 30, 30, 45))))
        for _ in range(draw(st.integers(3, 8))):
            who = draw(st.sampled_from((0, 0, 0, 1)))
            out.append(Contact(
                contact_id=f"b{draw(st.integers(0, 10**6)):07d}",
                started_at=start + timedelta(hours=draw(st.sampled_from((0, 0, 1, 5, 24 * 7)))),
                direction=draw(st.sampled_from(("inbound", "inbound", "inbound", "outbound"))),
                phone=phone_spelling(PEOPLE[who][0], draw(st.integers(0, 5))),
                category=draw(st.sampled_from(("billing", "billing", "network", "outage", None))),
                offset=draw(st.sampled_from(OFFSETS)),
            ))
    ids = [c.contact_id for c in out]
    return [c for i, c in enumerate(out) if c.contact_id not in ids[:i]]  # ids are unique in a file


AGENTS = (("A1", "team-a", "billing"), ("A2", "team-a", "tech"), ("B1", "team-b", "tech"))
FEEDBACK_TAGS = ("thank-you", "feature-request", "complaint")
TAG_SPELLINGS = ("Thank You", "thanks", "feature_request", "COMPLAINT", "complaints", "no-thank-you")


@st.composite
def desk_sets(draw: st.DrawFn, max_size: int = 24) -> list[Contact]:
    """1..max_size contacts of a few people on an hourly grid over 1 to 10 days (exact-W gaps,
    same instants and the pending boundary t + W = latest all common), with agents, teams, queues,
    outcomes, call times, CSAT and feedback tags. Sometimes no contact has a category."""
    base = draw(st.sampled_from(BASES))
    span_hours = draw(st.sampled_from((6, 24, 72, 240)))
    categories = draw(st.sampled_from((("billing", "network", None), ("billing",), (None,))))
    size = draw(st.integers(1, max_size))
    ids = draw(st.permutations(range(size)))
    out = []
    for n in range(size):
        who = draw(st.sampled_from((0, 0, 1, 1, 2, None)))
        phone = account = None
        if who is None:
            phone = draw(st.sampled_from(WITHHELD_IDS))
        elif draw(st.booleans()):
            phone = phone_spelling(PEOPLE[who][0], draw(st.integers(0, 5)))
        else:
            account = PEOPLE[who][2]
        agent = draw(st.sampled_from((*AGENTS, None)))
        answered = draw(st.sampled_from((True, True, False, None)))
        abandoned = None if answered is None else (not answered and draw(st.booleans()))
        tags = draw(st.lists(st.sampled_from((*FEEDBACK_TAGS, *TAG_SPELLINGS, "other")), max_size=2, unique=True))
        sep = draw(st.sampled_from(("|", ", ", ";")))
        out.append(Contact(
            contact_id=f"d{ids[n]:02d}",
            started_at=base + timedelta(hours=draw(st.integers(0, span_hours))),
            direction=draw(st.sampled_from(("inbound", "inbound", "inbound", "outbound"))),
            phone=phone, account_id=account,
            category=draw(st.sampled_from(categories)),
            channel=draw(st.sampled_from(("phone", "phone", "email", None))),
            resolved=draw(st.sampled_from((True, False, None))),
            agent_id=agent[0] if agent else None, team=agent[1] if agent else None,
            queue=agent[2] if agent else draw(st.sampled_from(("billing", None))),
            ticket_id=draw(st.sampled_from((None, "T1", "T2", "T3"))),
            wait_s=draw(st.sampled_from((None, 0.0, 5.0, 20.0, 20.5, 90.0))),
            talk_s=draw(st.sampled_from((None, 0.0, 60.0, 300.0))),
            hold_s=draw(st.sampled_from((None, 0.0, 30.0))),
            wrap_s=draw(st.sampled_from((None, 0.0, 45.0))),
            answered=answered, abandoned=abandoned,
            escalated=draw(st.sampled_from((None, False, True))),
            truck_roll=draw(st.sampled_from((None, False, False, True))),
            csat=draw(st.sampled_from((None, None, 1.0, 3.0, 4.0, 5.0))),
            tags=sep.join(tags) or None,
            offset=draw(st.sampled_from(OFFSETS)),
        ))
    return out


# ---------------------------------------------------------------------------------------------
# Cost to serve, customer value, robust scores (DESIGN.md "Cost to serve"; docs/metrics.md)
# ---------------------------------------------------------------------------------------------


def whose(idents: Iterable[str], groups: Sequence[frozenset[str]]) -> Customer | None:
    """The customer a record belongs to (None: no identifier)."""
    for i in idents:
        for g in groups:
            if i in g:
                return g
    return None


def billed_minutes(seconds: float) -> int:
    """Whole minutes, rounded up: the smallest m with 60·m ≥ seconds."""
    m = 0
    while 60 * m < seconds:
        m += 1
    return m


def days_in_month(day: date) -> int:
    n = 0
    d = day.replace(day=1)
    while d.month == day.month:
        n += 1
        d += timedelta(days=1)
    return n


@dataclass(frozen=True)
class Rates:
    labour_per_hour: float = 36.0
    truck_roll: float = 150.0
    per_minute: Mapping[str, float] | None = None
    per_contact: Mapping[str, float] | None = None


def contact_cost(c: Contact, rates: Rates, agent_rates: Mapping[str, float]) -> float:
    """Labour + telephony + per-contact channel cost + truck roll, from the definition."""
    hourly = agent_rates.get(c.agent_id or "", rates.labour_per_hour)
    labour = c.handle_s / 3600 * hourly
    minutes = billed_minutes((c.talk_s or 0) + (c.hold_s or 0))
    telephony = (rates.per_minute or {}).get(c.channel or "", 0.0) * minutes
    channel = (rates.per_contact or {}).get(c.channel or "", 0.0)
    truck = rates.truck_roll if c.truck_roll else 0.0
    return labour + telephony + channel + truck


def period_revenue(monthly: float, label: str, period: str, start: date | None = None,
                   end: date | None = None) -> float:
    """``monthly`` spread over days (1 / days in that month each), summed over the days of the
    period labelled ``label`` (within start..end when given)."""
    total = 0.0
    # every day of a wide range whose label is ``label``
    year = int(label[:4])
    d = date(year - 1, 12, 1)
    while d < date(year + 1, 2, 1):
        if period_label(d, period) == label and (start is None or d >= start) and (end is None or d <= end):
            total += monthly / days_in_month(d)
        d += timedelta(days=1)
    return total


@dataclass(frozen=True)
class CostRow:
    period: str
    customer: Customer
    contacts: int
    handle_s: float
    cost: float
    revenue: float

    @property
    def margin(self) -> float:
        return self.revenue - self.cost


def cost_to_serve(contacts: Sequence[Contact], period: str, tz: str, rates: Rates,
                  agent_rates: Mapping[str, float], directory: Sequence[tuple[Sequence[str], float | None]] = (),
                  start: date | None = None, end: date | None = None) -> list[CostRow]:
    """Per period and customer with contacts in it (inbound and outbound): contacts, handle
    seconds, cost, and revenue (the customer's directory rows' monthly revenues, prorated).
    ``directory``: (identifiers, monthly revenue) rows, which link identifiers like contacts."""
    groups = resolved_people([*(identifiers(c) for c in contacts), *(list(ids) for ids, _ in directory)])
    monthly: dict[Customer, float] = defaultdict(float)
    for ids, money in directory:
        who = whose(ids, groups)
        if who is not None and money is not None:
            monthly[who] += money
    acc: dict[tuple[str, Customer], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for c in contacts:
        who = whose(identifiers(c), groups)
        day = local_date(c.started_at, tz)
        if who is None or (start and day < start) or (end and day > end):
            continue
        a = acc[(period_label(day, period), who)]
        a[0] += 1
        a[1] += c.handle_s
        a[2] += contact_cost(c, rates, agent_rates)
    return [CostRow(label, who, int(n), h, cost, period_revenue(monthly.get(who, 0.0), label, period, start, end))
            for (label, who), (n, h, cost) in acc.items()]


def median(values: Sequence[float]) -> float:
    s = sorted(values)
    mid = len(s) // 2
    return float(s[mid]) if len(s) % 2 else (s[mid - 1] + s[mid]) / 2


def robust_scores(values: Sequence[float]) -> list[float]:
    """Modified z-scores: (x - median) / (1.4826 · MAD); when the MAD is 0, the mean absolute
    deviation * 1.2533 stands in; when that is 0 too, every score is 0."""
    m = median(values)
    mad = median([abs(v - m) for v in values])
    if mad > 0:
        return [(v - m) / (1.4826 * mad) for v in values]
    mean_ad = sum(abs(v - m) for v in values) / len(values)
    if mean_ad > 0:
        return [(v - m) / (1.2533 * mean_ad) for v in values]
    return [0.0 for _ in values]


@dataclass(frozen=True)
class Order:
    ident: str  # ``kind:value``
    day: date
    amount: float
    line: int


def customer_value(contacts: Sequence[Contact], orders: Sequence[Order], period: str,
                   tz: str) -> dict[Customer, dict[str, Any]]:
    """Per customer with orders: orders, repeat purchases (orders after the first), the first
    order's amount (earliest date, then earliest line), the mean of the later ones, revenue, and per
    period label (orders, revenue, inbound contacts); ``falling``: in the period of the last day of
    the data (latest order date or contact local date) revenue is below and contacts above those of
    the period before."""
    groups = resolved_people([*(identifiers(c) for c in contacts), *([o.ident] for o in orders)])
    mine: dict[Customer, list[Order]] = defaultdict(list)
    for o in orders:
        who = whose([o.ident], groups)
        assert who is not None
        mine[who].append(o)
    last = max([o.day for o in orders] + [local_date(c.started_at, tz) for c in contacts])
    last_label = period_label(last, period)
    d = last
    while period_label(d, period) == last_label:
        d -= timedelta(days=1)
    previous_label = period_label(d, period)
    out: dict[Customer, dict[str, Any]] = {}
    for who, os in mine.items():
        os = sorted(os, key=lambda o: (o.day, o.line))
        per: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0])
        for o in os:
            per[period_label(o.day, period)][0] += 1
            per[period_label(o.day, period)][1] += o.amount
        for c in contacts:
            if c.direction == "inbound" and whose(identifiers(c), groups) == who:
                per[period_label(local_date(c.started_at, tz), period)][2] += 1
        now, before = per.get(last_label, [0, 0.0, 0]), per.get(previous_label, [0, 0.0, 0])
        out[who] = {
            "orders": len(os), "repeat_purchases": len(os) - 1, "first_order": os[0].amount,
            "later_order_avg": sum(o.amount for o in os[1:]) / (len(os) - 1) if len(os) > 1 else None,
            "revenue": sum(o.amount for o in os), "last_period": last_label, "previous_period": previous_label,
            "falling": now[1] < before[1] and now[2] > before[2],
            "periods": {k: (int(v[0]), v[1], int(v[2])) for k, v in per.items()},
        }
    return out
