"""Feedback: CSAT scores and tagged feedback (DESIGN.md, "Concepts": Contact — CSAT score,
feedback tags: thank-you, feature request, complaint).

The canonical fields are ``csat`` (a number, as the source scores it: 1-5, 0-10, …) and ``tags``
(text: several tags separated by ``|``, ``,`` or ``;``). A tag is compared case-folded, with
spaces and underscores read as hyphens: ``Thank You``, ``thank_you`` and ``thank-you`` are one
tag; ``thanks`` is also a thank-you. Every contact counts, identified or not.
"""

from __future__ import annotations

from typing import Any, Final

#: Feedback tag -> a regular expression matching it as one whole tag of the (case-folded) list.
TAG_PATTERNS: Final[dict[str, str]] = {
    "thank_you": r"thank[- _]?you|thanks",
    "feature_request": r"feature[- _]?request",
    "complaint": r"complaint",
}
_SEP_BEFORE = r"(^|[|,;])\s*("
_SEP_AFTER = r")\s*($|[|,;])"


def has_tag(tags: Any, name: str) -> Any:
    """Whether the ``tags`` text (one contact's) carries the feedback tag ``name`` (a key of
    ``TAG_PATTERNS``); false when there are no tags."""
    return tags.lower().re_search(_SEP_BEFORE + TAG_PATTERNS[name] + _SEP_AFTER).fill_null(False)


def _count(flag: Any) -> Any:
    return flag.cast("int64").sum().fill_null(0)


def feedback_summary(contacts: Any, by: list[str]) -> Any:
    """Per group of ``by`` columns (none: one row): contacts, rated (with a CSAT score), csat_avg
    (mean score; null when none), tagged (contacts with any of the three feedback tags),
    thank_you, feature_request, complaint (contacts carrying each)."""
    c = contacts
    flags = {name: has_tag(c.tags, name) for name in TAG_PATTERNS}
    metrics = dict(
        contacts=c.count(),
        rated=_count(c.csat.notnull()),
        csat_avg=c.csat.mean(),
        tagged=_count(flags["thank_you"] | flags["feature_request"] | flags["complaint"]),
        **{name: _count(flag) for name, flag in flags.items()},
    )
    g = c.group_by(by).aggregate(**metrics) if by else c.aggregate(**metrics)
    cols = [*by, "contacts", "rated", "csat_avg", "tagged", *TAG_PATTERNS]
    return g.select(cols).order_by(by) if by else g.select(cols)


def csat_distribution(contacts: Any, by: list[str]) -> Any:
    """How many contacts gave each CSAT score, per group of ``by``: columns ``by``, csat, n."""
    rated = contacts.filter(contacts.csat.notnull())
    return rated.group_by([*by, "csat"]).aggregate(n=rated.count()).order_by([*by, "csat"])
