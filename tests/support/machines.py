"""What the hypothesis state machines share: their settings under the loaded profile."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def machine_settings(modest_examples: int) -> settings:
    """``thorough`` (2,000 examples) when that profile is loaded, else a modest run."""
    profile = settings.default
    assert profile is not None
    examples = profile.max_examples if profile.max_examples >= 1000 else modest_examples
    return settings(
        profile,
        max_examples=examples,
        stateful_step_count=max(profile.stateful_step_count, 30),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
