"""Hypothesis profiles: how hard the property tests look.

``dev`` (the default: ``make test`` on a developer's machine) runs each property test with a fifth
of its examples (at least 10); ``ci`` (``HYPOTHESIS_PROFILE=ci``, which ``.ci/run`` sets) runs the
full count each test names. Both keep Hypothesis's database of failing examples, so a failure found
once is tried first next time. A test names its full count as ``max_examples=examples(N)``.
"""

from __future__ import annotations

import os

from hypothesis import settings

PROFILE_ENV = "HYPOTHESIS_PROFILE"
PROFILES = ("dev", "ci")
settings.register_profile("dev", deadline=None)
settings.register_profile("ci", deadline=None, print_blob=True)


def profile() -> str:
    """The profile in force: ``$HYPOTHESIS_PROFILE``, else ``dev``."""
    name = os.environ.get(PROFILE_ENV, "").strip() or "dev"
    if name not in PROFILES:
        raise ValueError(f"${PROFILE_ENV}={name!r}: one of {', '.join(PROFILES)}")
    return name


settings.load_profile(profile())


def examples(full: int) -> int:
    """``max_examples`` of a property test whose full run is ``full`` examples: all of them under
    the ``ci`` profile, a fifth (at least 10, at most ``full``) under ``dev``."""
    return full if profile() == "ci" else min(full, max(10, full // 5))
