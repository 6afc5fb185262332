"""Domain errors. Interfaces translate these in exactly one place each (CLI: ``cli/main.py``)."""

from __future__ import annotations


class RecontactError(Exception):
    """Base class of every error recontact raises on purpose; its message is for the user."""


class ConfigError(RecontactError, ValueError):
    """The configuration file or a setting is invalid."""


class InputFileError(RecontactError, ValueError):
    """An input file cannot be read at all (missing, empty, unknown format, no valid row)."""


class UnknownCustomerError(RecontactError, LookupError):
    """No customer matches the key or identifier asked for."""


class StoreError(RecontactError, RuntimeError):
    """The store cannot be opened or is not a recontact store."""


class CaseError(RecontactError, ValueError):
    """A case operation cannot be done: unknown case or user, an illegal transition, a bad code."""


class Interrupted(RecontactError):
    """The user stopped the command (Ctrl-C); the message says what was kept. Exit code 130."""


def interrupted(error: BaseException) -> bool:
    """Whether ``error`` is the user's Ctrl-C: Python's ``KeyboardInterrupt``, or the error DuckDB
    raises instead when the signal arrives while it runs a statement (it stops the statement)."""
    if isinstance(error, KeyboardInterrupt):
        return True
    return isinstance(error, RuntimeError) and str(error) == "Query interrupted"
