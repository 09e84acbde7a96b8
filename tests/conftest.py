"""Hypothesis profiles: ``default`` for every run, ``thorough`` for the long stateful run
(``pytest -m stateful --hypothesis-profile=thorough``: at least 2,000 examples), and ``ci``,
which ``.ci/run`` chooses through ``CALSYNC_HYPOTHESIS_PROFILE``: the examples of the default
run, drawn from a seed fixed per test, so that CI passes or fails on the change under test,
not on the draw (a local run keeps drawing new examples, and finds what they break)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.register_profile(
    "thorough",
    max_examples=2000,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("CALSYNC_HYPOTHESIS_PROFILE", "default"))
