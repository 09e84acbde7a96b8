"""Hypothesis profiles: ``default`` for every run, ``thorough`` for the long stateful run
(``pytest -m stateful --hypothesis-profile=thorough``: at least 2,000 examples)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile("default", deadline=None)
settings.register_profile(
    "thorough",
    max_examples=2000,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.load_profile("default")
