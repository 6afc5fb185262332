"""Chronic-caller rules: their specification and their evaluation (batch today, incremental later)."""
