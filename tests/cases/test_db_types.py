"""The cases store's datetime type: one fast bind function on SQLite that stores exactly what
SQLAlchemy's own two steps (to naive UTC, then SQLite's DATETIME format) store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from recontact.cases.db import UTCDateTime


@given(moment=st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1),
                           timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)),
                                                      timezone(timedelta(hours=5, minutes=30))])))
def test_sqlite_binding_equals_sqlalchemys_two_steps(moment: datetime) -> None:
    dialect = sqlite.dialect()
    ours = UTCDateTime().bind_processor(dialect)
    theirs = DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None and theirs is not None
    assert ours(moment) == theirs(UTCDateTime().process_bind_param(moment, dialect))
    assert ours(None) is None


def test_sqlite_binding_refuses_a_naive_datetime() -> None:
    bind = UTCDateTime().bind_processor(sqlite.dialect())
    assert bind is not None
    with pytest.raises(ValueError, match="naive datetime"):
        bind(datetime(2026, 1, 1, 9, 0))
