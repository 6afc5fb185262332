"""E-mail addresses as identifiers: trimmed and case-folded."""

from __future__ import annotations


def normalize_email(raw: str | None) -> str | None:
    """``'  Ann.Lee@Example.COM '`` -> ``'ann.lee@example.com'``; empty -> None."""
    if raw is None:
        return None
    text = raw.strip().casefold()
    return text or None


def normalize_email_sql(column: str) -> str:
    """SQL twin of :func:`normalize_email` (ASCII case folding, which is what addresses use)."""
    return f"nullif(lower(trim({column})), '')"
