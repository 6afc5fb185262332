"""The real-data switch: without ../shared/data a real-data test skips with a reason, unless
``RECONTACT_REAL_DATA=required`` (CI), where it fails."""

from __future__ import annotations

from pathlib import Path

import pytest

import conftest


@pytest.fixture
def no_shared_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    missing = tmp_path / "shared" / "data"
    monkeypatch.setattr(conftest, "SHARED_DATA", missing)
    return missing


def test_missing_real_data_skips_with_the_reason(no_shared_data, monkeypatch):
    monkeypatch.delenv(conftest.REAL_DATA_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception) as e:
        conftest.require_real_data()
    assert str(no_shared_data) in str(e.value)
    assert "RECONTACT_REAL_DATA=required" in str(e.value)


@pytest.mark.parametrize("value", ["required", "REQUIRED", " required "])
def test_missing_real_data_fails_when_required(no_shared_data, monkeypatch, value):
    monkeypatch.setenv(conftest.REAL_DATA_ENV, value)
    with pytest.raises(pytest.fail.Exception) as e:
        conftest.require_real_data()
    assert str(no_shared_data) in str(e.value)


@pytest.mark.parametrize("value", ["", "0", "optional"])
def test_other_values_only_skip(no_shared_data, monkeypatch, value):
    monkeypatch.setenv(conftest.REAL_DATA_ENV, value)
    with pytest.raises(pytest.skip.Exception):
        conftest.require_real_data()


def test_present_real_data_neither_skips_nor_fails(monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path)
    monkeypatch.setenv(conftest.REAL_DATA_ENV, "required")
    conftest.require_real_data()
